"""The admin's decisions about who is linked to whom: answering a person Match Users By Name holds
(ambiguous, refused, possible, unlinked), one by one or by a rule, and keeping or removing a
``clever`` link the sync did not make. All need a realm admin, and all are audited.

* Who may decide (``may_decide``): a realm user holding realm-management's ``realm-admin``, or both
  ``manage-users`` and ``manage-identity-providers`` (composites and groups count: Keycloak's
  effective roles are read). ``clever-admin`` alone opens the page but decides nothing here: a
  link hands an account to a Clever login, which is a realm admin's call.
* A resolution picks one of the accounts the last run offered that person (never one with admin
  power, disabled, or unchecked), or ``create`` ("none of these: create a new account"); anything
  else is refused. The sync checks the choice again when it applies it (``plugin.sync.desired``):
  an account that has since become an admin, been linked or disabled is refused then too. The
  answer names the account by its username, never by its Keycloak id.
* A rule (``plugin.sync.resolutions.rules``) confirms every waiting possible match of one group at
  once: one resolution and one audit entry per person, as if each had been confirmed on its own.
  The page posts the rule's key and the number of people it showed; a list that changed since is
  refused (read the rule again).
* A suspicious link (a ``clever`` link that owns nothing: ``model.ownership``): ``keep`` makes
  it the person's owned link in Keycloak at once (the next sync syncs the account as theirs);
  ``unlink`` removes it from the account at once.
* The identity providers whose names the district runs (``set_name_providers``): accounts whose
  names such a provider writes at every login may then be matched by name. The page's list wins
  over ``KCC_ADMIN_RUN_NAME_PROVIDERS`` once saved; only providers of the realm can be named.
* Every decision is written to the audit log (``plugin.sso.links.audit``): who, when, which Clever id,
  which account.
"""

from __future__ import annotations

import logging
from typing import Any

from keycloak.exceptions import KeycloakError

from connectors.keycloak import write_owned_link
from connectors.keycloak_http import KeycloakHttp
from connectors.keycloak_vet import name_providers
from model.base import SyncError
from model.state import IDP_ALIAS
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
HELD = ("ambiguous", "possible-match", "refused-link", "unlinked")  # kinds an admin answers with a choice


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
    """``clever_id``'s entry of ``kind`` (one of ``HELD``, or ``suspicious-link``) on the standing
    waiting list (``plugin.runs.standing``), else in the newest runs' reports. The accounts an
    admin may choose are under ``keycloak_ids`` either way."""
    kinds = HELD if kind in HELD else (kind,)
    district = svc.store().load().district_id
    standing = StandingStore(svc.redis).load(district).waiting if district else []
    for entry in standing:
        if entry.get("kind") in kinds and entry.get("clever_id") == clever_id:
            return {**entry, "keycloak_ids": entry.get("candidates", entry.get("keycloak_ids", []))}
    for report in SyncState(svc.redis).history(district, HISTORY_LOOKED_AT) if district else []:
        for item in report.waiting:
            if item.get("kind") in kinds and item.get("clever_id") == clever_id:
                return {**item, "keycloak_ids": item.get("candidates", [])}
        for item in report.ambiguous if "ambiguous" in kinds else []:
            if clever_id in item.get("clever_ids", []):
                return item
    return None


def username(svc: Services, keycloak_id: str) -> str:
    """The account's username, as the admin knows it (the Keycloak id when it is gone)."""
    try:
        return str(svc.keycloak().get_user(keycloak_id).get("username") or keycloak_id)
    except KeycloakError:
        return keycloak_id


def resolve(svc: Services, clever_id: str, choice: str, who: AdminUser | None) -> str:
    """Keep the admin's answer for a waiting person, for the next sync (rules in the module doc)."""
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
    _record(svc, who, "resolve", clever_id, choice)
    person = resolutions.people(svc.redis, svc.realm, [clever_id]).get(clever_id, {}).get("name")
    whom = f"{person} (Clever id {clever_id})" if person else f"Clever person {clever_id}"
    if choice == resolutions.CREATE:
        return f"{whom} will get a new account from the next sync"
    return f"{whom} will be linked to the account {username(svc, choice)} by the next sync"


def confirm_rule(svc: Services, rule_key: str, count: int, who: AdminUser | None) -> str:
    """Confirm every waiting possible match of one rule (``plugin.sync.resolutions.rules``)."""
    if not may_decide(svc, who):
        raise ActionError(REALM_ADMIN_ONLY)
    assert who is not None
    district = svc.store().load().district_id
    waiting = StandingStore(svc.redis).load(district).waiting if district else []
    rule = next((r for r in resolutions.rules(waiting) if r.key == rule_key), None)
    if rule is None or len(rule.members) != count:
        raise ActionError("The possible matches changed since the page was shown: read the rule again.")
    for clever_id, keycloak_id in rule.members:
        _record(svc, who, "confirm-rule", clever_id, keycloak_id)
    names = ", ".join(username(svc, keycloak_id) for _, keycloak_id in rule.members[:20])
    more = f" and {len(rule.members) - 20} more" if len(rule.members) > 20 else ""
    return (
        f"Confirmed {len(rule.members)} possible matches ({rule.words}): the next sync links "
        f"the accounts {names}{more}"
    )


def _record(svc: Services, who: AdminUser, action: str, clever_id: str, choice: str) -> None:
    """One answer: kept for the next sync, and in the audit log."""
    resolutions.resolve(svc.redis, svc.realm, clever_id, choice)
    links.audit(
        svc.redis,
        svc.realm,
        who=who.username,
        who_id=who.keycloak_id,
        action=action,
        clever_id=clever_id,
        keycloak_id=choice,
    )
    log.info("admin page: %s chose %s for Clever id %s (%s)", who.keycloak_id, choice, clever_id, action)


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


def realm_name_providers(svc: Services) -> dict[str, bool]:
    """The realm's identity providers but Clever: alias -> whether their names reach linked
    accounts at every login (``connectors.keycloak_vet.rewrites_names``)."""
    try:
        return name_providers(KeycloakHttp(svc.keycloak()))
    except SyncError as exc:
        raise ActionError(f"Keycloak did not list its identity providers: {exc}") from exc


def set_name_providers(svc: Services, aliases: list[str], who: AdminUser | None) -> str:
    """Mark the providers whose names the district runs (Match Users By Name trusts their names)."""
    if not may_decide(svc, who):
        raise ActionError(REALM_ADMIN_ONLY)
    assert who is not None
    known = realm_name_providers(svc)
    unknown = sorted(set(aliases) - set(known))
    if unknown:
        raise ActionError(f"The realm has no identity provider {unknown[0]!r}.")
    store = svc.store()
    config = store.load()
    config.admin_run_name_providers = sorted(set(aliases))
    store.save(config)
    log.info(
        "admin page: %s set the admin-run name providers to %s",
        who.keycloak_id,
        config.admin_run_name_providers,
    )
    if not aliases:
        return "No identity provider's names are trusted: their accounts wait as possible matches"
    return (
        f"Names from {', '.join(sorted(set(aliases)))} are run by the district: the next sync may match them"
    )
