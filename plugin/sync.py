"""The sync pipeline, top-down: fetch → map → plan → brake → apply → report.

``run_sync`` reads the whole roster before it writes anything, so a Clever failure mid-run (after
the client's retries) aborts the run with nothing disabled or removed. The plan is a pure diff:
a run where nothing changed in Clever sends no write to Keycloak or LDAP.

The brake: a run that would disable or remove more than ``options.brake_ratio`` (default 10%) of
any kind (students, teachers, staff, parents, classes, memberships) stops before writing and is
held "needs review" with its preview (``plugin.brake``); ``approve_run`` runs it again with the
brake released, ``discard_run`` drops it (``plugin.state`` keeps both decisions in the history).

Incremental: with a saved event cursor and no ``full=True``, the run first asks Clever's Events
for changes after the cursor. None → a "no-changes" report without touching Keycloak or LDAP.
Some → the run diffs the full roster against the directory (so only the changes are written);
a cursor Clever refuses or has dropped (older than 30 days) falls back to a plain full sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from connectors.base import RecordError, RosterSource, SyncError, big_buffers_to_mmap
from connectors.clever import CleverClient, StaleCursorError
from connectors.keycloak import KeycloakDirectory, admin_client, email_warning
from connectors.ldap import LdapDirectory, LdapPlan, desired_groups, diff_groups
from connectors.records import Event
from connectors.state import CurrentUser, DesiredState, DirectoryState
from plugin import links, resolutions
from plugin.applied import Applied, fingerprint, user_fingerprint
from plugin.brake import brake_reasons, preview
from plugin.departed import report_departed, with_kinds
from plugin.describe import describe, describe_suspicious
from plugin.desired import Mapped, map_people, read_roster
from plugin.desired_match import match_scope
from plugin.plan import diff
from plugin.report import SyncReport
from plugin.settings import Settings

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
# A cursor saved when Clever's events feed was empty: "start:<ISO time of that run>".
START_OF_FEED = "start:"
FEED_KEEPS = timedelta(days=29)  # Clever keeps 30 days; a day of margin


def run_sync(
    settings: Settings,
    *,
    source: RosterSource | None = None,
    district_id: str = "",
    school_ids: tuple[str, ...] = (),
    dry_run: bool = False,
    full: bool = False,
    cursor: str | None = None,
    trigger: str = "manual",
    release_brake: bool = False,
    verify: bool = False,
    progress: Progress | None = None,
    report: SyncReport | None = None,
) -> SyncReport:
    """One sync of a district; returns its report (the caller stores it: ``plugin.jobs``)."""
    big_buffers_to_mmap()  # memory: see its docstring
    report = report or SyncReport(district_id=district_id, trigger=trigger, dry_run=dry_run)
    source = source or CleverClient(settings.clever)
    try:
        return _run(
            settings,
            source,
            report,
            district_id,
            school_ids,
            dry_run,
            full,
            cursor,
            release_brake,
            verify,
            progress,
        )
    finally:
        http = getattr(source, "http", None)  # the Clever client's requests (``plugin.metrics``)
        if http is not None:
            report.preview["requests"] = {"clever": http.requests_made}
            report.preview["errors_by_system"] = {"clever": http.retries}


def _run(
    settings: Settings,
    source: RosterSource,
    report: SyncReport,
    district_id: str,
    school_ids: tuple[str, ...],
    dry_run: bool,
    full: bool,
    cursor: str | None,
    release_brake: bool,
    verify: bool,
    progress: Progress | None,
) -> SyncReport:
    district_id = district_id or settings.clever.district_id
    report.district_id = district_id
    applied = Applied.from_url(settings.redis_url, settings.keycloak.realm, district_id)
    report.mode = "full" if full or cursor is None else "incremental"
    if report.mode == "incremental":
        if progress:
            progress("events", 0, 0)
        events = _events_since(source, cursor, report)
        if events is not None and not events:
            report.preview["event_cursor"] = cursor
            return report.finish("no-changes")
        if events is not None:
            from plugin.incremental import run_incremental

            done = run_incremental(
                settings,
                events,
                report,
                applied,
                school_ids=frozenset(school_ids),
                dry_run=dry_run,
                release_brake=release_brake,
            )
            if done is not None:
                return done
        report.mode = "full"
    return _full_sync(settings, source, report, applied, school_ids, dry_run, release_brake, verify, progress)


def _full_sync(
    settings: Settings,
    source: RosterSource,
    report: SyncReport,
    applied: Applied,
    school_ids: tuple[str, ...],
    dry_run: bool,
    release_brake: bool,
    verify: bool,
    progress: Progress | None,
) -> SyncReport:
    if progress:
        progress("reading", 0, 0)
    roster = source.roster(report.district_id or None)  # fetch
    started = datetime.now(UTC)
    keycloak = KeycloakDirectory(admin_client(settings.keycloak))
    idp_present = _ensure_realm(
        keycloak, report, write=not dry_run, users_edit_names=settings.clever.users_edit_names
    )
    match = settings.options.match_users_by_name
    verify = verify or applied.needs_verify(started)
    stored_users = {} if verify or not idp_present else applied.user_fingerprints()
    ldap = LdapDirectory(settings.ldap)
    redis = Redis.from_url(settings.redis_url)
    ours = links.ours(applied.all_ids(), redis, settings.keycloak.realm)
    # Clever is read (and its records sorted) in this thread while Keycloak and LDAP are read in
    # two others: the reads wait on the servers, the roster keeps this process busy.
    with ThreadPoolExecutor(2) as pool:
        keycloak_read = pool.submit(_read_keycloak, keycloak, applied, stored_users, match, idp_present, ours)
        ldap_read = pool.submit(ldap.current)
        read = read_roster(roster, options=settings.options, school_ids=frozenset(school_ids))
        current = keycloak_read.result()
        ldap_groups = ldap_read.result()
    choices = resolutions.load(redis, settings.keycloak.realm) if match else {}
    mapped = map_people(  # map
        read,
        current_users=current.directory.users,
        accounts=current.candidates,
        usernames=current.usernames,
        options=settings.options,
        resolutions=choices,
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
    confirmed = mapped.confirmed  # Clever id -> the stored fingerprint the account still matches
    if current.partial:
        directory = _complete_users(keycloak, directory, mapped.desired, confirmed, report)
        current.directory = directory  # the brief listing's records are let go
    del stored_users
    directory = _with_members(keycloak, directory, mapped.desired, applied, verify, report)
    directory = with_kinds(directory, mapped.desired, applied)
    plan = diff(mapped.desired, directory, removed_at=report.started)  # plan
    ldap_plan = diff_groups(
        desired_groups(mapped.desired, settings.ldap.groups_dn), ldap_groups, settings.ldap.groups_dn
    )
    describe(report, mapped, plan, directory, ldap_plan, roster)
    report.preview.update(preview(plan, ldap_plan))

    reasons = brake_reasons(  # brake
        plan, directory, settings.options.brake_ratio, settings.options.brake_update_ratio
    )
    report.brake = {"held": bool(reasons) and not release_brake, "reasons": reasons}
    if dry_run:
        report.calls = dict(keycloak.calls)
        return report.finish("dry-run")
    if reasons and not release_brake:
        report.calls = dict(keycloak.calls)
        return report.finish("held")

    total = plan.size()
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("keycloak", done, total)

    failed: set[str] = set()
    keycloak_failures, ldap_failures = apply_both(  # apply
        lambda: keycloak.apply(plan, mapped.desired, tick), ldap, ldap_plan
    )
    report.count_failures(plan, keycloak_failures)  # once, in words, and counted as failed
    report.count_failures(plan, ldap_failures, directory="ldap")
    report_departed(report, plan, directory, keycloak.undisablable)
    failed.update(failure.clever_id for failure in keycloak_failures)
    _remember(applied, keycloak, mapped, directory, started, verify, report)
    fingerprints = {
        clever_id: confirmed.get(clever_id) or user_fingerprint(ids, spec.attributes, spec.read_only)
        for clever_id, spec in mapped.desired.users.items()
        if clever_id not in failed
        and (ids := _keycloak_id(clever_id, spec.matched_keycloak_id, directory, keycloak))
    }
    report.preview.update(synced_totals(mapped.desired, fingerprints, keycloak))
    adopted = {spec.matched_keycloak_id for spec in mapped.desired.users.values()}
    applied.save_users(fingerprints, {a.keycloak_id for a in current.accounts} - adopted)
    if mapped.resolved:
        for clever_id in mapped.resolved:
            resolutions.forget(redis, settings.keycloak.realm, clever_id)
    report.writes = {"keycloak": keycloak.http.writes, "ldap": ldap.counts.writes}  # report
    report.calls = dict(keycloak.calls)
    report.preview["event_cursor"] = roster.event_cursor or f"{START_OF_FEED}{report.started}"
    return report.finish_written()


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


def apply_both(
    keycloak_apply: Callable[[], list[RecordError]], ldap: LdapDirectory, ldap_plan: LdapPlan
) -> tuple[list[RecordError], list[RecordError]]:
    """The Keycloak writes and the LDAP group writes at the same time; the failures of each.

    The LDAP plan does not depend on the Keycloak writes: it was made before them from the people's
    directory entries as read, and accounts created now have none yet (their DNs appear, and join
    their groups, on the next run). An error that stops one side (``ConfigError``,
    ``TransientError``) is raised only after the other side has finished, and names both sides'
    outcome (``ApplyError``): a directory that went away makes Keycloak's LDAP federation answer
    500 too, and the report must say that our own LDAP writes failed as well.
    """
    if ldap_plan.empty:
        return keycloak_apply(), []
    keycloak_error: SyncError | None = None
    ldap_error: SyncError | None = None
    keycloak_failures: list[RecordError] = []
    ldap_failures: list[RecordError] = []
    with ThreadPoolExecutor(1) as pool:
        ldap_done = pool.submit(ldap.apply, ldap_plan)
        try:
            keycloak_failures = keycloak_apply()
        except SyncError as exc:
            keycloak_error = exc
        try:
            ldap_failures = ldap_done.result()
        except SyncError as exc:
            ldap_error = exc
    if keycloak_error or ldap_error:
        raise ApplyError(keycloak_error, ldap_error)
    return keycloak_failures, ldap_failures


class ApplyError(SyncError):
    """One or both sides of the apply stopped; the message names each system and what it said."""

    def __init__(self, keycloak: SyncError | None, ldap: SyncError | None) -> None:
        parts = [
            f"keycloak: {keycloak}" if keycloak else "keycloak: its writes finished",
            f"ldap: {ldap}" if ldap else "ldap: its group writes finished",
        ]
        if keycloak and ldap:
            parts.append(
                "both failed: when the directory is down, Keycloak's LDAP federation fails too, "
                "so look at the directory first"
            )
        super().__init__("; ".join(parts))
        self.keycloak, self.ldap = keycloak, ldap


def _read_keycloak(
    keycloak: KeycloakDirectory,
    applied: Applied,
    stored_users: dict[str, str],
    match: bool,
    idp_present: bool,
    ours: Mapping[str, str],
) -> Any:
    """The realm's state: the cheap read when the last run's memory allows it, else the full one
    (which trusts only the ``clever`` links in ``ours``: ``plugin.links``)."""
    if stored_users:
        current = keycloak.current_known(
            ids=applied.all_ids(), others=applied.others(), dns=applied.all_dns()
        )
        if current is not None:
            return current
    return keycloak.current(with_accounts=match, with_members=False, idp_present=idp_present, ours=ours)


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
    since the last run wrote them (not in ``confirmed``: ``plugin.desired.map_people`` compared the
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
    report: SyncReport,
) -> None:
    """Keep what this run left in Keycloak (``plugin.applied``) so the next one reads less."""
    ids = {clever_id: user.keycloak_id for clever_id, user in current.users.items()}
    ids.update(keycloak.created)
    ids.update(
        {
            cid: spec.matched_keycloak_id
            for cid, spec in mapped.desired.users.items()
            if spec.matched_keycloak_id
        }
    )
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
    applied.save_fingerprints(fingerprints, dropped=keycloak.failed_groups)
    if verify:
        applied.set_verified(started)
    dns = {cid: spec.ldap_dn for cid, spec in mapped.desired.users.items() if spec.ldap_dn}
    applied.remember(ids=ids, groups=keycloak.group_ids, dns=dns, replace=True)
    applied.remember_kinds({cid: spec.kind for cid, spec in mapped.desired.users.items() if spec.read_only})
    if keycloak.refused_emails:
        applied.refuse_emails(keycloak.refused_emails)
        for clever_id in sorted(keycloak.refused_emails):
            report.warnings.append(email_warning(keycloak, clever_id))
    totals = {kind: 0 for kind in ("students", "teachers", "staff", "parents")}
    for spec in mapped.desired.users.values():
        totals[spec.kind] = totals.get(spec.kind, 0) + 1
    totals["classes"] = sum(1 for key in mapped.desired.groups if key.startswith("section:"))
    totals["memberships"] = sum(len(members) for members in wanted.values())
    applied.save_totals(totals)


def _events_since(source: RosterSource, cursor: str | None, report: SyncReport) -> list[Event] | None:
    """Clever's events after ``cursor``; None when the cursor is refused or too old (a full run)."""
    after: str | None = cursor
    if cursor and cursor.startswith(START_OF_FEED):
        # The feed was empty at the last full run: every event in it now came after that run,
        # unless that run is older than the feed's 30 days.
        then = datetime.fromisoformat(cursor.removeprefix(START_OF_FEED))
        if datetime.now(UTC) - then > FEED_KEEPS:
            report.warnings.append("the last full sync is older than Clever's 30-day events: full sync")
            return None
        after = None
    try:
        return list(source.events(after))
    except StaleCursorError:
        report.warnings.append("the event cursor is older than Clever's 30-day window: full sync")
        return None


def _ensure_realm(
    keycloak: KeycloakDirectory, report: SyncReport, *, write: bool = True, users_edit_names: bool = False
) -> bool:
    """The Clever attributes must be declared (Keycloak drops undeclared ones) before any write;
    True when the Clever identity provider is registered (links can be made). A dry run
    (``write=False``) changes nothing, not even the User Profile."""
    from plugin.broker import BrokerReport, ensure_user_profile

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


def removed_at() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = ["brake_reasons", "preview", "run_sync"]  # brake_reasons, preview: from plugin.brake
