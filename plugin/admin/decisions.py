"""The admin's decisions about who is linked to whom: resolving an ambiguous match, and keeping or
removing a ``clever`` link the sync did not make. Both need a realm admin, and both are audited.

* Who may decide (``may_decide``): a realm user holding realm-management's ``realm-admin``, or both
  ``manage-users`` and ``manage-identity-providers`` (composites and groups count: Keycloak's
  effective roles are read). ``clever-admin`` alone opens the page but decides nothing here: a
  link hands an account to a Clever login, which is a realm admin's call.
* A resolution picks one of the accounts the last run listed for that person's ambiguity, or
  ``create`` ("none of these: create a new account"); anything else is refused. The sync checks
  the choice again when it applies it (``plugin.sync.desired``): an account that has since become an
  admin, been linked or disabled is refused then too.
* A suspicious link (a ``clever`` link that owns nothing: ``connectors.ownership``): ``keep`` makes
  it the person's owned link in Keycloak at once (the next sync syncs the account as theirs);
  ``unlink`` removes it from the account at once.
* Every decision is written to the audit log (``plugin.sso.links.audit``): who, when, which Clever id,
  which account.
"""

from __future__ import annotations

import logging
from typing import Any

from keycloak.exceptions import KeycloakError

from connectors.base import SyncError
from connectors.keycloak import write_owned_link
from connectors.state import IDP_ALIAS
from plugin.admin.actions import ActionError
from plugin.admin.auth import AdminUser
from plugin.admin.services import Services
from plugin.runs.standing import StandingStore
from plugin.runs.state import SyncState
from plugin.sso import links
from plugin.sync import resolutions

log = logging.getLogger(__name__)
DECIDER_ROLES = frozenset({"manage-users", "manage-identity-providers"})
HISTORY_LOOKED_AT = 10
REALM_ADMIN_ONLY = "Only a realm admin (realm-management realm-admin) decides who is linked to whom."


def may_decide(svc: Services, who: AdminUser | None) -> bool:
    """Realm-admin, or manage-users with manage-identity-providers, in Keycloak's effective roles."""
    if who is None:
        return False
    admin = svc.keycloak()
    try:
        management = admin.get_client_id("realm-management")
        if management is None:
            return False
        held = {
            role["name"] for role in admin.get_composite_client_roles_of_user(who.keycloak_id, management)
        }
    except KeycloakError as exc:
        raise ActionError(f"Keycloak did not say what roles you hold: {exc}") from exc
    return "realm-admin" in held or held >= DECIDER_ROLES


def _waiting(svc: Services, kind: str, clever_id: str) -> dict[str, Any] | None:
    """``clever_id``'s entry of ``kind`` (``ambiguous`` or ``suspicious-link``) on the standing
    waiting list (``plugin.runs.standing``), else in the newest runs' reports. An ambiguity's accounts
    are under ``keycloak_ids`` either way."""
    district = svc.store().load().district_id
    standing = StandingStore(svc.redis).load(district).waiting if district else []
    for entry in standing:
        if (entry.get("kind"), entry.get("clever_id")) == (kind, clever_id):
            return {**entry, "keycloak_ids": entry.get("candidates", entry.get("keycloak_ids", []))}
    for report in SyncState(svc.redis).history(district, HISTORY_LOOKED_AT) if district else []:
        items = (
            report.ambiguous if kind == "ambiguous" else [w for w in report.waiting if w.get("kind") == kind]
        )
        for item in items:
            if clever_id in item.get("clever_ids", [item.get("clever_id")]):
                return item
    return None


def resolve(svc: Services, clever_id: str, choice: str, who: AdminUser | None) -> str:
    """Keep the admin's answer to an ambiguous match for the next sync (rules in the module doc)."""
    if not clever_id or not choice:
        raise ActionError("Pick an account to link, or create a new account.")
    if not may_decide(svc, who):
        raise ActionError(REALM_ADMIN_ONLY)
    assert who is not None
    item = _waiting(svc, "ambiguous", clever_id)
    if item is None:
        raise ActionError("That Clever person is not waiting for a choice: run a sync first.")
    if choice != resolutions.CREATE and choice not in item.get("keycloak_ids", []):
        raise ActionError(
            "That account is not one of this person's candidates: pick one of the list, or a new account."
        )
    resolutions.resolve(svc.redis, svc.realm, clever_id, choice)
    links.audit(
        svc.redis,
        svc.realm,
        who=who.username,
        who_id=who.keycloak_id,
        action="resolve",
        clever_id=clever_id,
        keycloak_id=choice,
    )
    log.info("admin page: %s resolved Clever id %s to %s", who.keycloak_id, clever_id, choice)
    what = "a new account" if choice == resolutions.CREATE else f"account {choice}"
    return f"Clever person {clever_id} will be linked to {what} by the next sync"


def decide_link(svc: Services, clever_id: str, decision: str, who: AdminUser | None) -> str:
    """``keep`` or ``unlink`` the suspicious link of ``clever_id`` (as the last run reported it)."""
    if decision not in ("keep", "unlink"):
        raise ActionError("Keep the link, or unlink it.")
    if not may_decide(svc, who):
        raise ActionError(REALM_ADMIN_ONLY)
    assert who is not None
    item = _waiting(svc, "suspicious-link", clever_id)
    if item is None:
        raise ActionError("That Clever id has no suspicious link in the last runs.")
    keycloak_id = str(item.get("keycloak_id", ""))
    if decision == "keep":
        try:
            write_owned_link(svc.keycloak(), keycloak_id, clever_id)
        except SyncError as exc:
            raise ActionError(f"Keycloak refused to record the link: {exc}") from exc
        message = (
            f"The link of account {keycloak_id} to Clever person {clever_id} is kept: the next sync syncs it"
        )
    else:
        try:
            svc.keycloak().delete_user_social_login(keycloak_id, IDP_ALIAS)
        except KeycloakError as exc:
            if exc.response_code != 404:
                raise ActionError(f"Keycloak refused to remove the link: {exc}") from exc
        message = f"Account {keycloak_id} is no longer linked to Clever person {clever_id}"
    links.audit(
        svc.redis,
        svc.realm,
        who=who.username,
        who_id=who.keycloak_id,
        action=f"link-{decision}",
        clever_id=clever_id,
        keycloak_id=keycloak_id,
    )
    log.info("admin page: %s chose %s for the link of Clever id %s", who.keycloak_id, decision, clever_id)
    return message
