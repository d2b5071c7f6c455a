"""What a run makes sure of in the realm before it plans, for every kind of run: the Clever attributes
declared, a ``clever`` identity provider to hold the links, the links an earlier version trusted
made owned once (``own_old_links``), and the people an unlink left waiting (``carry_unlinked``).
"""

from __future__ import annotations

from dataclasses import replace

from redis import Redis

from connectors.keycloak import KeycloakDirectory, write_owned_link
from connectors.keycloak_read import KeycloakState, owners, read_links
from model.ownership import IDP_ALIAS, ROOT_MARK, ROOT_MARK_VERSION
from plugin.config.settings import Settings
from plugin.sso import links
from plugin.sso.broker import BrokerReport, ensure_link_holder, ensure_user_profile
from plugin.sync.applied import Applied
from plugin.sync.report import SyncReport


def ensure_realm(keycloak: KeycloakDirectory, report: SyncReport, settings: Settings, *, write: bool) -> bool:
    """The Clever attributes must be declared (Keycloak drops undeclared ones) before any write,
    and a ``clever`` identity provider must exist to hold the links that say who owns an account
    (``plugin.sso.broker.ensure_link_holder``). True when it exists. A dry run (``write=False``)
    changes nothing, not even the User Profile."""
    if write:
        ensure_user_profile(keycloak.admin, BrokerReport(), users_edit_names=settings.clever.users_edit_names)
        if ensure_link_holder(keycloak.admin, settings.clever.oauth_url):
            report.warnings.append(
                "Clever was not registered as the realm's identity provider yet: the sync registered a "
                "disabled one to hold its links; nobody signs in with Clever until it is enabled "
                "(the page's Enabled, or `keycloak-clever broker register`)"
            )
    response = keycloak.http.call("GET", "identity-provider/instances/clever", ok=(404,))
    return response.status_code != 404


def own_old_links(
    keycloak: KeycloakDirectory, applied: Applied, redis: Redis, report: SyncReport, *, write: bool
) -> None:
    """Once per realm, on the first run of this version: the links the previous version trusted
    become owned links (``plugin.sso.links.links_to_own``). A write Keycloak refuses stops the run
    before anything else is written, so the root's mark (written by the plan) comes only after."""
    response = keycloak.http.call("GET", f"group-by-path/{keycloak.root_name}", ok=(404,))
    if response.status_code == 404:
        return  # a realm the sync never wrote: nothing of the previous version's
    if ROOT_MARK_VERSION in ((response.json().get("attributes") or {}).get(ROOT_MARK) or ()):
        return
    _, foreign = owners(
        read_links(keycloak.http, extension=keycloak.uses_extension(), workers=keycloak.workers)
    )
    if not foreign:
        return
    usernames = {
        user["id"]: user["username"]
        for user in keycloak.http.pages("users", idpAlias=IDP_ALIAS, briefRepresentation="true")
    }
    to_own = links.links_to_own(foreign, usernames, applied.all_ids(), links.kept(redis, applied.realm))
    if write:
        for keycloak_id, clever_id in sorted(to_own.items()):
            write_owned_link(keycloak.admin, keycloak_id, clever_id)
    report.preview["links_made_owned"] = len(to_own)
    report.warnings.append(
        f"ownership records: {len(to_own)} Clever links an earlier version of the sync made or an admin kept "
        f"{'are now' if write else 'would be'} owned links; {len(foreign) - len(to_own)} other Clever links "
        "own nothing (their people wait on the page)"
    )


def carry_unlinked(state: KeycloakState, lost: dict[str, str], redis: Redis, realm: str) -> None:
    """An account that was a person's until an unlink carries that person's Clever id as data
    (``Account.carried_clever_id``), so the name match makes them wait for an admin
    (``mappers.names``) instead of linking them again. ``lost``: this run's finds (the memory
    writes them down after apply: ``plugin.sync.memory``); the earlier ones are in Redis."""
    waiting = {**links.unlinked(redis, realm), **lost}
    carried = {keycloak_id: clever_id for clever_id, keycloak_id in waiting.items()}
    state.accounts = [
        replace(a, carried_clever_id=a.carried_clever_id or carried[a.keycloak_id])
        if a.keycloak_id in carried
        else a
        for a in state.accounts
    ]
