"""One planner for every run: read a snapshot, read the directory for its scope, map, diff.

::

    snapshot = take_snapshot(...)       the Clever records in scope     plugin.sync.snapshot(_events)
    current  = read_current(...)        Keycloak and LDAP of that scope plugin.sync.current
    mapped   = map_people(...)          the desired state               plugin.sync.desired(_people)
    plan     = diff(desired, current, scope)                            plugin.sync.plan, plan_ldap

A full run and an incremental run differ only in the snapshot they read (every record, or the
records Clever's events touch plus what mapping them needs) and so in its ``Scope``; the map and
the diff are the same functions, so an incremental run ends exactly where a full run of the same
roster would (``tests/integration/test_plan_once.py``). When the events call for more than a
snapshot of them can decide (``NeedsFullRun``), the run reads everything instead and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from connectors.base import RosterSource
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.ldap import LdapDirectory
from connectors.state import DesiredState, DirectoryState, LdapPlan, Plan
from mappers.ldap_layout import desired_groups
from plugin.config.settings import Settings
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import brake_from_totals, brake_reasons
from plugin.sync.current import Current, Reading, complete, read_current
from plugin.sync.describe import describe_suspicious
from plugin.sync.desired import MapInput, read_roster, settle_groups
from plugin.sync.desired_match import match_scope
from plugin.sync.desired_people import map_people
from plugin.sync.events import NeedsFullRun
from plugin.sync.plan import current_kind, diff
from plugin.sync.plan_ldap import diff_ldap
from plugin.sync.planned import Planned
from plugin.sync.realm import carry_unlinked, ensure_realm, own_old_links
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from plugin.sync.scope import Scope
from plugin.sync.snapshot import Snapshot, events_since, full_snapshot
from plugin.sync.snapshot_events import events_snapshot

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class RunContext:
    """What every stage of one run reads: made once by ``plugin.sync.pipeline.run_sync``."""

    settings: Settings
    run: RunOptions
    report: SyncReport
    applied: Applied
    school_ids: frozenset[str] = frozenset()
    progress: Progress | None = None

    def tell(self, stage: str) -> None:
        if self.progress:
            self.progress(stage, 0, 0)


def plan_run(ctx: RunContext, source: Any, cursor: str | None) -> Planned | None:
    """Read, map and plan one run; None when Clever's events say nothing changed."""
    snapshot = take_snapshot(ctx, source, cursor)
    if snapshot is None:
        return None
    try:
        return plan_snapshot(ctx, snapshot)
    except NeedsFullRun as exc:
        _full_instead(ctx.report, exc)
        return plan_snapshot(ctx, full_snapshot(source, ctx.report.district_id, ctx.report.started))


def take_snapshot(ctx: RunContext, source: RosterSource, cursor: str | None) -> Snapshot | None:
    """Clever's side: from the events after ``cursor`` when the run may (``events_snapshot``),
    else the whole roster; None when the events say nothing changed."""
    report = ctx.report
    report.mode = "full" if ctx.run.full or cursor is None else "incremental"
    if report.mode == "incremental":
        ctx.tell("events")
        events = events_since(source, cursor, report)
        if events is not None and not events:
            report.preview["event_cursor"] = cursor
            return None
        if events:
            try:
                reader: Any = source
                totals = ctx.applied.totals()
                snapshot = events_snapshot(reader, report.district_id, events, ctx.settings.options, totals)
            except NeedsFullRun as exc:
                _full_instead(report, exc)
            else:
                report.reread(snapshot.scope.people)
                report.preview["events"] = len(events)
                return snapshot
        report.mode = "full"
    ctx.tell("reading")
    return full_snapshot(source, report.district_id, report.started)


def plan_snapshot(ctx: RunContext, snapshot: Snapshot) -> Planned:
    """The directory read for the snapshot's scope, the map, the diff (module doc)."""
    settings, report, write = ctx.settings, ctx.report, not ctx.run.dry_run
    started = datetime.now(UTC)
    keycloak = KeycloakDirectory(admin_client(settings.keycloak), bulk=settings.keycloak.bulk)
    idp_present = ensure_realm(keycloak, report, settings, write=write)
    redis = Redis.from_url(settings.redis_url)
    if idp_present:
        own_old_links(keycloak, ctx.applied, redis, report, write=write)
    ldap = LdapDirectory(settings.ldap)
    how = Reading(started, ctx.run.verify, settings.options.match_users_by_name, idp_present)
    # Clever's records are sorted in this thread while Keycloak and LDAP are read in others: the
    # reads wait on the servers, the roster keeps this process busy.
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(read_current, keycloak, ldap, snapshot, ctx.applied, how)
        read = read_roster(snapshot.roster, settings.options, ctx.school_ids, snapshot.scope)
        current = reading.result()
    carry_unlinked(current.state, current.lost, redis, settings.keycloak.realm)
    mapped = map_people(read, _map_input(ctx, current, snapshot.scope, redis))
    del read  # Memory: the Clever records (10 MB at 10,000 people); the desired state is made
    _describe_read(report, current, mapped)
    ctx.tell("planning")
    mapped.desired, missing = settle_groups(mapped.desired, current.directory.groups, snapshot.scope)
    if missing:
        raise NeedsFullRun(f"{len(missing)} classes the events name are not in Keycloak yet")
    directory = complete(keycloak, current, mapped, ctx.applied, report)
    plan = diff(mapped.desired, directory, snapshot.scope, removed_at=report.started)
    ldap_plan = _ldap_plan(mapped.desired, directory, current, snapshot.scope, settings.ldap.groups_dn)
    return Planned(
        plan=plan,
        ldap_plan=ldap_plan,
        mapped=mapped,
        current=directory,
        read=current,
        snapshot=snapshot,
        keycloak=keycloak,
        ldap=ldap,
        brake=_brake(ctx, plan, directory, snapshot.scope),
        started=started,
    )


def _map_input(ctx: RunContext, current: Current, scope: Scope, redis: Redis) -> MapInput:
    """The one input value of the map stage besides the roster (``plugin.sync.desired.MapInput``)."""
    settings, applied, state = ctx.settings, ctx.applied, current.state
    match = settings.options.match_users_by_name
    return MapInput(
        options=settings.options,
        scope=scope,
        current_users=state.directory.users,
        accounts=state.candidates,
        usernames=state.usernames,
        resolutions=resolutions.load(redis, settings.keycloak.realm) if match else {},
        refused_emails=applied.refused_emails(),
        as_written=current.fingerprints if state.partial else {},
        written=current.fingerprints if scope.everything else applied.user_fingerprints(scope.people),
        match_scope=match_scope(settings.options, settings.ldap.people_dn),
        hold=frozenset(state.suspicious.values()),
        school_ids=ctx.school_ids,
    )


def _describe_read(report: SyncReport, current: Current, mapped: Any) -> None:
    """What the read found that the report says: accounts the memory did not hold, links the sync
    did not make, the candidates' notes."""
    for clever_id, user in current.found.items():
        spec = mapped.desired.users.get(clever_id)
        report.kinds[spec.kind if spec else current_kind(user)]["found"] += 1
    describe_suspicious(report, current.state.suspicious, mapped.held)
    report.warnings.extend(current.state.vetter_notes)
    report.preview.update(current.counts)


def _ldap_plan(
    desired: DesiredState, directory: DirectoryState, current: Current, scope: Scope, groups_dn: str
) -> LdapPlan:
    """The LDAP diff: the groups the desired state calls for against those LDAP holds, for the
    directory entries of the people the scope decides."""
    decided = {
        dn
        for clever_id in scope.people
        for dn in (
            directory.users[clever_id].ldap_dn if clever_id in directory.users else "",
            desired.users[clever_id].ldap_dn if clever_id in desired.users else "",
        )
        if dn
    }
    return diff_ldap(desired_groups(desired, groups_dn), current.ldap, groups_dn, scope, decided)


def _brake(ctx: RunContext, plan: Plan, directory: DirectoryState, scope: Scope) -> list[str]:
    """Why the brake holds the run: against what the realm holds (a full run), or the totals the
    last full run counted (an incremental run reads too little to count them)."""
    options = ctx.settings.options
    if scope.everything:
        return brake_reasons(plan, directory, options.brake_ratio, options.brake_update_ratio)
    return brake_from_totals(plan, ctx.applied.totals(), options.brake_ratio, options.brake_update_ratio)


def _full_instead(report: SyncReport, exc: NeedsFullRun) -> None:
    report.warnings.append(f"incremental: {exc}: full sync instead")
    report.mode = "full"
