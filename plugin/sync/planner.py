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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.ldap import LdapDirectory
from mappers.ldap_layout import desired_groups
from model.base import RosterSource
from plugin.config.settings import Settings
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import brake_for
from plugin.sync.current import Reading, complete, read_current
from plugin.sync.current_scoped import read_accounts_ahead
from plugin.sync.describe import describe_read
from plugin.sync.desired import MapInput, read_roster
from plugin.sync.desired_match import match_scope
from plugin.sync.desired_people import map_people
from plugin.sync.plan import diff
from plugin.sync.plan_ldap import diff_ldap, people_dns
from plugin.sync.planned import Planned
from plugin.sync.realm import carry_unlinked, ensure_realm, own_old_links
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from plugin.sync.snapshot import NeedsFullRun, Snapshot, full_snapshot
from plugin.sync.snapshot_events import Changes, events_since, events_snapshot, fold

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


class _Realm:
    """Keycloak for one run, made ready once (the Clever attributes declared, the previous
    version's links owned: ``plugin.sync.realm``) when the run first needs it; and for an
    incremental run whose events create somebody the sync may give an account, the realm's
    accounts read while Clever's records are (``plugin.sync.current_scoped.read_accounts_ahead``)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.keycloak: KeycloakDirectory | None = None
        self.idp_present = False
        self.accounts: Future[list[list[Any]] | None] | None = None

    def ready(self) -> KeycloakDirectory:
        if self.keycloak is None:
            settings, report, write = self.ctx.settings, self.ctx.report, not self.ctx.run.dry_run
            keycloak = KeycloakDirectory(
                admin_client(settings.keycloak),
                bulk=settings.keycloak.bulk,
                health_url=settings.keycloak.health_url,
            )
            self.idp_present = ensure_realm(keycloak, report, settings, write=write)
            if self.idp_present:
                own_old_links(
                    keycloak, self.ctx.applied, Redis.from_url(settings.redis_url), report, write=write
                )
            self.keycloak = keycloak
        return self.keycloak

    def read_ahead(self, changes: Changes) -> None:
        """The events are in: start reading what the scope will need of the whole realm (class doc)."""
        keycloak, parents = self.ready(), self.ctx.settings.options.sync_parent_data
        pool = ThreadPoolExecutor(1, thread_name_prefix="realm-accounts")
        self.accounts = pool.submit(read_accounts_ahead, keycloak, changes, parents)
        pool.shutdown(wait=False)  # the read goes on; its thread ends with it


def plan_run(ctx: RunContext, source: Any, cursor: str | None) -> Planned | None:
    """Read, map and plan one run (module doc); None when Clever's events say nothing changed."""
    realm = _Realm(ctx)
    snapshot = take_snapshot(ctx, source, cursor, realm.read_ahead)
    if snapshot is None:
        return None
    settings, report, scope = ctx.settings, ctx.report, snapshot.scope
    keycloak = realm.ready()
    idp_present = realm.idp_present
    redis = Redis.from_url(settings.redis_url)
    ldap = LdapDirectory(settings.ldap)
    options = settings.options
    how = Reading(
        datetime.now(UTC), ctx.run.verify, options.match_users_by_name, idp_present, options.sync_parent_data
    )
    try:
        # Clever's records are sorted in this thread while Keycloak and LDAP are read in others:
        # the reads wait on the servers, the roster keeps this process busy.
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(read_current, keycloak, ldap, snapshot, ctx.applied, how, realm.accounts)
            read = read_roster(snapshot.roster, settings.options, ctx.school_ids, scope)
            current = reading.result()
        realm.accounts = None  # Memory: every account's row, read ahead (the scope's are kept)
        carry_unlinked(current.state, current.lost, redis, settings.keycloak.realm)
        state, match = current.state, settings.options.match_users_by_name
        inp = MapInput(  # the one input value of the map stage besides the roster
            options=settings.options,
            scope=scope,
            current_users=state.directory.users,
            current_groups=state.directory.groups,
            accounts=state.candidates,
            usernames=state.usernames,
            resolutions=resolutions.load(redis, settings.keycloak.realm) if match else {},
            refused_emails=current.refused_emails,
            as_written=current.fingerprints if state.partial else {},
            written=current.written,
            match_scope=match_scope(settings.options, settings.ldap.people_dn),
            hold=frozenset(state.suspicious.values()),
            school_ids=ctx.school_ids,
        )
        mapped = map_people(read, inp)
        del read  # Memory: the Clever records (10 MB at 10,000 people); the desired state is made
        describe_read(report, current, mapped)
        ctx.tell("planning")
        directory = complete(keycloak, current, mapped, report)
        plan = diff(mapped.desired, directory, scope, removed_at=report.started)
        groups_dn = settings.ldap.groups_dn
        decided = people_dns(scope, directory, mapped.desired)
        ldap_plan = diff_ldap(
            desired_groups(mapped.desired, groups_dn), current.ldap, groups_dn, scope, decided
        )
    except NeedsFullRun as exc:
        report.warnings.append(f"incremental: {exc}: full sync instead")
        return plan_run(ctx, source, None)
    brake = brake_for(plan, directory, scope, current.totals, settings.options)
    return Planned(plan, ldap_plan, mapped, directory, current, snapshot, keycloak, ldap, brake, how.started)


def take_snapshot(
    ctx: RunContext,
    source: RosterSource,
    cursor: str | None,
    read_ahead: Callable[[Changes], None] | None = None,
) -> Snapshot | None:
    """Clever's side: from the events after ``cursor`` when the run may (``events_snapshot``),
    else the whole roster; None when the events say nothing changed. ``read_ahead`` is told the
    events (folded) before their records are read."""
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
                if read_ahead is not None:
                    read_ahead(fold(events))
                snapshot = events_snapshot(reader, report.district_id, events, ctx.settings.options, totals)
            except NeedsFullRun as exc:
                report.warnings.append(f"incremental: {exc}: full sync instead")
            else:
                report.reread(snapshot.scope.people)
                report.preview["events"] = len(events)
                return snapshot
        report.mode = "full"
    ctx.tell("reading")
    return full_snapshot(source, report.district_id, report.started)
