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
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.ldap import LdapDirectory, desired_groups, diff_groups
from connectors.state import CurrentUser, DesiredState, DirectoryState, fingerprint, user_fingerprint
from plugin.config.settings import Settings
from plugin.sso import links
from plugin.sso.broker import BrokerReport, ensure_user_profile
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import REWRITABLE, brake_reasons
from plugin.sync.departed import with_kinds
from plugin.sync.describe import describe_suspicious
from plugin.sync.desired import Mapped, map_people, read_roster
from plugin.sync.desired_match import match_scope
from plugin.sync.plan import diff
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
    idp_present = _ensure_realm(
        keycloak, report, write=not run.dry_run, users_edit_names=settings.clever.users_edit_names
    )
    match = settings.options.match_users_by_name
    verify = run.verify or applied.needs_verify(started)
    stored_users = {} if verify or not idp_present else applied.user_fingerprints()
    ldap = LdapDirectory(settings.ldap)
    redis = Redis.from_url(settings.redis_url)

    def ours(made: Mapping[str, str]) -> dict[str, str]:
        return links.ours(made, redis, settings.keycloak.realm)

    # Clever is read (and its records sorted) in this thread while Keycloak and LDAP are read in
    # two others: the reads wait on the servers, the roster keeps this process busy.
    with ThreadPoolExecutor(2) as pool:
        keycloak_read = pool.submit(_read_keycloak, keycloak, applied, stored_users, match, idp_present, ours)
        ldap_read = pool.submit(ldap.current)
        read = read_roster(roster, options=settings.options, school_ids=school_ids)
        current = keycloak_read.result()
        ldap_groups = ldap_read.result()
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
    describe_suspicious(report, current.suspicious)
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
    people = dict.fromkeys(("students", "teachers", "staff", "parents"), 0)
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
    keycloak: KeycloakDirectory,
    applied: Applied,
    stored_users: dict[str, str],
    match: bool,
    idp_present: bool,
    ours: Callable[[Mapping[str, str]], Mapping[str, str]],
) -> Any:
    """The realm's state: the cheap read when the last run's memory allows it, else the full one
    (which trusts only the ``clever`` links ``ours`` gives for the ids the sync made:
    ``plugin.sso.links``). Memory: the ids are read from Redis once (53,045 at 50,000 students, a
    dict and a string each), and the trusted links made only for the full read."""
    ids = applied.all_ids()
    if stored_users:
        current = keycloak.current_known(ids=ids, others=applied.others(), dns=applied.all_dns())
        if current is not None:
            return current
    trusted = ours(ids)
    del ids
    return keycloak.current(with_accounts=match, with_members=False, idp_present=idp_present, ours=trusted)


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
    totals = {kind: 0 for kind in ("students", "teachers", "staff", "parents")}
    totals.update({REWRITABLE + kind: 0 for kind in totals})
    for spec in mapped.desired.users.values():
        totals[spec.kind] = totals.get(spec.kind, 0) + 1
        if not spec.read_only:  # the incremental brake's rewrite denominators (``plugin.sync.brake``)
            totals[REWRITABLE + spec.kind] = totals.get(REWRITABLE + spec.kind, 0) + 1
    totals["classes"] = sum(1 for key in mapped.desired.groups if key.startswith("section:"))
    totals["memberships"] = memberships
    applied.save_totals(totals)


def _ensure_realm(
    keycloak: KeycloakDirectory, report: SyncReport, *, write: bool = True, users_edit_names: bool = False
) -> bool:
    """The Clever attributes must be declared (Keycloak drops undeclared ones) before any write;
    True when the Clever identity provider is registered (links can be made). A dry run
    (``write=False``) changes nothing, not even the User Profile."""
    if write:
        ensure_user_profile(keycloak.admin, BrokerReport(), users_edit_names=users_edit_names)
    response = keycloak.http.call("GET", "identity-provider/instances/clever", ok=(404,))
    if response.status_code == 404:
        report.warnings.append(
            "the Clever identity provider is not registered yet: accounts are linked, "
            "and their links work once `keycloak-clever broker` has registered it "
            "(the next sync after that adds the links)"
        )
        return False
    return True
