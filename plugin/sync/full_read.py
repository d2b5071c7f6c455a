"""A full run's read, map and plan: the whole roster against the whole realm and directory.

``plan_full`` fetches the roster (Clever), the realm's accounts and groups (Keycloak) and the LDAP
groups at once, maps the roster to the desired state (``plugin.sync.desired``), completes what the cheap
reads left out (the accounts whose wanted attributes changed, the member lists whose fingerprints no
longer hold: ``plugin.sync.applied``), and diffs (``plugin.sync.plan``, ``connectors.ldap.diff_groups``).
Its ``Planned.remember`` keeps what the run left in Keycloak so the next one reads less.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from redis import Redis

from connectors.base import RosterSource
from connectors.keycloak import KeycloakDirectory, admin_client, write_owned_link
from connectors.keycloak_read import owners, read_links
from connectors.ldap import LdapDirectory, desired_groups, diff_groups
from connectors.ownership import IDP_ALIAS, ROOT_MARK, ROOT_MARK_VERSION
from connectors.state import (
    USER_KINDS,
    CurrentUser,
    DesiredState,
    DirectoryState,
    fingerprint,
    user_fingerprint,
)
from plugin.config.settings import Settings
from plugin.sso import links
from plugin.sso.broker import BrokerReport, ensure_link_holder, ensure_user_profile
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import REWRITABLE, brake_reasons
from plugin.sync.departed import with_kinds
from plugin.sync.describe import describe_suspicious
from plugin.sync.desired import Mapped, map_people, read_roster
from plugin.sync.desired_match import match_scope
from plugin.sync.plan import current_kind, diff
from plugin.sync.planned import Planned
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# A cursor saved when Clever's events feed was empty: "start:<ISO time of that run>".
START_OF_FEED = "start:"


def plan_full(
    settings: Settings,
    source: RosterSource,
    run: RunOptions,
    report: SyncReport,
    applied: Applied,
    school_ids: frozenset[str],
    progress: Progress | None,
) -> Planned:
    """Fetch, map and plan the whole district."""
    if progress:
        progress("reading", 0, 0)
    roster = source.roster(report.district_id or None)
    started = datetime.now(UTC)
    keycloak = KeycloakDirectory(
        admin_client(settings.keycloak), bulk=settings.keycloak.bulk, health_url=settings.keycloak.health_url
    )
    idp_present = _ensure_realm(keycloak, report, settings, write=not run.dry_run)
    match = settings.options.match_users_by_name
    verify = run.verify or applied.needs_verify(started)
    stored_users = {} if verify or not idp_present else applied.user_fingerprints()
    ldap = LdapDirectory(settings.ldap)
    redis = Redis.from_url(settings.redis_url)
    if idp_present:
        own_old_links(keycloak, applied, redis, settings.keycloak.realm, report, write=not run.dry_run)

    # Clever is read (and its records sorted) in this thread while Keycloak and LDAP are read in
    # two others: the reads wait on the servers, the roster keeps this process busy.
    with ThreadPoolExecutor(2) as pool:
        keycloak_read = pool.submit(_read_keycloak, keycloak, applied, stored_users, match)
        ldap_read = pool.submit(ldap.current)
        read = read_roster(roster, options=settings.options, school_ids=school_ids)
        current, found, lost = keycloak_read.result()
        ldap_groups = ldap_read.result()
    _wait_if_unlinked(current, lost, redis, settings.keycloak.realm, write=not run.dry_run)
    mapped = map_people(
        read,
        current_users=current.directory.users,
        accounts=current.candidates,
        usernames=current.usernames,
        options=settings.options,
        resolutions=resolutions.load(redis, settings.keycloak.realm) if match else {},
        refused_emails=applied.refused_emails(),
        as_written=stored_users if current.partial else None,
        written=stored_users,
        scope=match_scope(settings.options, settings.ldap.people_dn),
        hold=current.suspicious.values(),
    )
    for clever_id, user in found.items():
        spec = mapped.desired.users.get(clever_id)
        report.kinds[spec.kind if spec else current_kind(user)]["found"] += 1
    del found
    describe_suspicious(report, current.suspicious, mapped.held)
    report.warnings.extend(current.vetter_notes)
    if progress:
        progress("planning", 0, 0)
    del read  # Memory: the Clever records (10 MB at 10,000 people); the desired state is made
    directory = current.directory
    if current.partial:
        directory = _complete_users(keycloak, directory, mapped.desired, mapped.confirmed, report)
        current.directory = directory  # the brief listing's records are let go
    del stored_users
    directory = _with_members(keycloak, directory, mapped.desired, applied, verify, report)
    directory = with_kinds(directory, mapped.desired, applied)
    plan = diff(mapped.desired, directory, removed_at=report.started)
    ldap_plan = diff_groups(
        desired_groups(mapped.desired, settings.ldap.groups_dn), ldap_groups, settings.ldap.groups_dn
    )
    others = {a.keycloak_id for a in current.accounts}

    def remember(failed: set[str]) -> None:
        _remember(applied, keycloak, mapped, directory, started, verify)
        _remember_users(applied, keycloak, mapped, directory, failed, others, report)

    return Planned(
        plan=plan,
        ldap_plan=ldap_plan,
        mapped=mapped,
        current=directory,
        keycloak=keycloak,
        ldap=ldap,
        brake=brake_reasons(
            plan, directory, settings.options.brake_ratio, settings.options.brake_update_ratio
        ),
        remember=remember,
        event_cursor=roster.event_cursor or f"{START_OF_FEED}{report.started}",
        roster_notes=roster,
    )


def _remember_users(
    applied: Applied,
    keycloak: KeycloakDirectory,
    mapped: Mapped,
    current: DirectoryState,
    failed: set[str],
    others: set[str],
    report: SyncReport,
) -> None:
    """Each synced account's attribute fingerprint and the realm's other accounts, for the next run.

    Memory: the fingerprints (about 130 bytes each) are made as they are written, not held for
    all 50,000 people of a large district at once."""
    users = mapped.desired.users
    synced = {
        clever_id: keycloak_id
        for clever_id, spec in users.items()
        if clever_id not in failed
        and (keycloak_id := _keycloak_id(clever_id, spec.matched_keycloak_id, current, keycloak))
    }
    report.preview.update(synced_totals(mapped.desired, synced, keycloak))
    adopted = {spec.matched_keycloak_id for spec in users.values()}
    fingerprints = (
        (
            clever_id,
            mapped.confirmed.get(clever_id)
            or user_fingerprint(keycloak_id, users[clever_id].attributes, users[clever_id].read_only),
        )
        for clever_id, keycloak_id in synced.items()
    )
    applied.save_users(fingerprints, others - adopted)


def synced_totals(
    desired: DesiredState, synced: Mapping[str, str], keycloak: KeycloakDirectory
) -> dict[str, Any]:
    """After a full run: people of each kind with an account now, school and class groups held."""
    people = dict.fromkeys(USER_KINDS, 0)
    for clever_id in synced:
        kind = desired.users[clever_id].kind
        people[kind] = people.get(kind, 0) + 1
    held = keycloak.group_ids  # every group that exists now (read, or created by this run)
    groups = {
        "schools": sum(1 for key in held if key.startswith("school:") and key.count(":") == 1),
        "classes": sum(1 for key in held if key.startswith("section:")),
    }
    return {"synced": people, "groups_synced": groups}


def _read_keycloak(
    keycloak: KeycloakDirectory, applied: Applied, stored_users: dict[str, str], match: bool
) -> tuple[Any, dict[str, CurrentUser], dict[str, str]]:
    """The realm's state: the cheap read when the last run's memory allows it, else the full one.
    Either way whose account is whose is the ownership rule's answer (``connectors.ownership``);
    the memory only spares reading what did not change. Also the accounts the memory does not
    hold: an earlier run wrote them (their owned link came with them) and stopped before it
    recorded them, or Redis lost its data; and the people the memory holds whose account is still
    here but owns nothing now (an unlink since: ``plugin.sso.links.note_unlinked``)."""
    ids = applied.all_ids()
    current = None
    if stored_users:
        current = keycloak.current_known(ids=ids, others=applied.others(), dns=applied.all_dns())
    if current is None:
        current = keycloak.current(with_accounts=match, with_members=False)
    users = current.directory.users
    found = {cid: user for cid, user in users.items() if ids.get(cid) != user.keycloak_id}
    accounts = {account.keycloak_id for account in current.accounts}
    lost = {cid: kid for cid, kid in ids.items() if cid not in users and kid in accounts}
    return current, found, lost


def _wait_if_unlinked(current: Any, lost: dict[str, str], redis: Redis, realm: str, *, write: bool) -> None:
    """An account that was a person's until an unlink carries that person's Clever id as data
    (``Account.carried_clever_id``), so the name match makes them wait for an admin
    (``mappers.names``) instead of linking them again."""
    if write:
        waiting = links.note_unlinked(redis, realm, lost, current.directory.users)
    else:
        waiting = {**links.unlinked(redis, realm), **lost}
    carried = {keycloak_id: clever_id for clever_id, keycloak_id in waiting.items()}
    current.accounts = [
        replace(a, carried_clever_id=a.carried_clever_id or carried[a.keycloak_id])
        if a.keycloak_id in carried
        else a
        for a in current.accounts
    ]


def own_old_links(
    keycloak: KeycloakDirectory,
    applied: Applied,
    redis: Redis,
    realm: str,
    report: SyncReport,
    *,
    write: bool,
) -> None:
    """Once per realm, on the first run of this version: the links the previous version trusted
    become owned links (``plugin.sso.links.links_to_own``). A write Keycloak refuses stops the run
    before anything else is written, so the root's mark (written by the plan) comes only after."""
    response = keycloak.http.call("GET", f"group-by-path/{keycloak.root_name}", ok=(404,))
    if response.status_code == 404:
        return  # a realm the sync never wrote: nothing of the previous version's
    if ROOT_MARK_VERSION in ((response.json().get("attributes") or {}).get(ROOT_MARK) or ()):
        return
    _, foreign = owners(read_links(keycloak.http, extension=keycloak.extension(), workers=keycloak.workers))
    if not foreign:
        return
    usernames = {
        user["id"]: user["username"]
        for user in keycloak.http.pages("users", idpAlias=IDP_ALIAS, briefRepresentation="true")
    }
    to_own = links.links_to_own(foreign, usernames, applied.all_ids(), links.kept(redis, realm))
    if write:
        for keycloak_id, clever_id in sorted(to_own.items()):
            write_owned_link(keycloak.admin, keycloak_id, clever_id)
    report.preview["links_made_owned"] = len(to_own)
    report.warnings.append(
        f"ownership records: {len(to_own)} Clever links an earlier version of the sync made or an admin kept "
        f"{'are now' if write else 'would be'} owned links; {len(foreign) - len(to_own)} other Clever links "
        "own nothing (their people wait on the page)"
    )


def _keycloak_id(clever_id: str, matched: str, current: DirectoryState, keycloak: KeycloakDirectory) -> str:
    existing = current.users.get(clever_id)
    return existing.keycloak_id if existing else matched or keycloak.created.get(clever_id, "")


def _complete_users(
    keycloak: KeycloakDirectory,
    current: DirectoryState,
    desired: DesiredState,
    confirmed: Mapping[str, str],
    report: SyncReport,
) -> DirectoryState:
    """After the brief read: attributes and links of the accounts whose wanted attributes changed
    since the last run wrote them (not in ``confirmed``: ``plugin.sync.desired.map_people`` compared the
    fingerprints), and of enabled accounts about to be disabled. A confirmed account takes its
    spec's attributes as its own (as written; the spec holds only ``clever_role`` then), so the
    plan finds no attribute to change."""
    users: dict[str, CurrentUser] = {}
    to_read: list[CurrentUser] = []
    for clever_id, user in current.users.items():
        spec = desired.users.get(clever_id)
        if spec is not None:
            if clever_id in confirmed:
                users[clever_id] = replace(user, attributes=spec.attributes)  # as written: shared
                continue
        elif not user.enabled or clever_id in desired.present:
            users[clever_id] = user  # disabled already, or out of the chosen schools: nothing to write
            continue
        to_read.append(user)
    users.update(keycloak.users(to_read))
    report.preview["accounts_read"] = len(to_read)
    return replace(current, users=users)


def wanted_members(desired: DesiredState, current: DirectoryState) -> dict[str, list[str]]:
    """Group key -> Keycloak ids the roster wants there (people with an account), every managed group.

    Lists, not sets (a third of the memory): each person is listed once, with their one account.
    """
    wanted: dict[str, list[str]] = {key: [] for key in (*desired.groups, *current.groups) if key != "root"}
    for spec in desired.users.values():
        existing = current.users.get(spec.clever_id)
        keycloak_id = existing.keycloak_id if existing else spec.matched_keycloak_id
        if keycloak_id:
            for key in spec.groups:
                wanted.setdefault(key, []).append(keycloak_id)
    return wanted


def _with_members(
    keycloak: KeycloakDirectory,
    current: DirectoryState,
    desired: DesiredState,
    applied: Applied,
    verify: bool,
    report: SyncReport,
) -> DirectoryState:
    """Member lists: read only where the wanted members differ from the last run's fingerprint."""
    stored = {} if verify else applied.fingerprints()
    settled: dict[str, int] = {}
    for key, ids in wanted_members(desired, current).items():
        group = current.groups.get(key)
        if group is not None and stored.get(key) == fingerprint(group.keycloak_id, ids):
            settled[key] = len(ids)
    to_read = {key for key in current.groups if key != "root" and key not in settled}
    members = keycloak.members(current.groups, to_read)
    report.preview["member_lists_read"] = len(to_read)
    report.preview["verified"] = verify
    return replace(current, members=members, settled=settled)


def _remember(
    applied: Applied,
    keycloak: KeycloakDirectory,
    mapped: Mapped,
    current: DirectoryState,
    started: datetime,
    verify: bool,
) -> None:
    """Keep what this run left in Keycloak (``plugin.sync.applied``) so the next one reads less.

    Memory: the member lists are let go before the ids are written, and the ids are written as
    they are listed (the last one listed for a person holds, as in a dict), not copied first."""
    wanted = wanted_members(mapped.desired, current)
    for clever_id, keycloak_id in keycloak.created.items():
        spec = mapped.desired.users.get(clever_id)
        for key in spec.groups if spec else ():
            wanted.setdefault(key, []).append(keycloak_id)
    fingerprints = {
        key: fingerprint(keycloak.group_ids[key], members)
        for key, members in wanted.items()
        if key in keycloak.group_ids and key not in keycloak.failed_groups
    }
    memberships = sum(len(members) for members in wanted.values())
    del wanted
    applied.save_fingerprints(fingerprints, dropped=keycloak.failed_groups)
    del fingerprints
    if verify:
        applied.set_verified(started)
    ids = chain(
        ((clever_id, user.keycloak_id) for clever_id, user in current.users.items()),
        keycloak.created.items(),
        (
            (cid, spec.matched_keycloak_id)
            for cid, spec in mapped.desired.users.items()
            if spec.matched_keycloak_id
        ),
    )
    dns = {cid: spec.ldap_dn for cid, spec in mapped.desired.users.items() if spec.ldap_dn}
    applied.replace_ids(ids=ids, groups=keycloak.group_ids.items(), dns=dns.items())
    applied.remember_kinds({cid: spec.kind for cid, spec in mapped.desired.users.items() if spec.read_only})
    totals = dict.fromkeys(USER_KINDS, 0)
    totals.update({REWRITABLE + kind: 0 for kind in USER_KINDS})
    for spec in mapped.desired.users.values():
        totals[spec.kind] = totals.get(spec.kind, 0) + 1
        if not spec.read_only:  # the incremental brake's rewrite denominators (``plugin.sync.brake``)
            totals[REWRITABLE + spec.kind] = totals.get(REWRITABLE + spec.kind, 0) + 1
    totals["classes"] = sum(1 for key in mapped.desired.groups if key.startswith("section:"))
    totals["memberships"] = memberships
    applied.save_totals(totals)


def _ensure_realm(
    keycloak: KeycloakDirectory,
    report: SyncReport,
    settings: Settings,
    *,
    write: bool = True,
) -> bool:
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
