"""The sync pipeline, top-down: fetch → map → plan → brake → apply → remember → report.

``run_sync`` is the one path of every run:

1. fetch, map, plan: ``plugin.sync.planner.plan_run``: a snapshot of Clever (the whole roster, or
   what Clever's events since the saved cursor touch), Keycloak and LDAP read for its scope, one
   map, one diff; it ends in a ``plugin.sync.planned.Planned``;
2. brake: ``plugin.sync.brake`` (the reasons are in ``Planned.brake``); a dry run stops here too;
3. apply: ``plugin.sync.apply.apply_both`` (Keycloak and LDAP at the same time);
4. remember: ``plugin.sync.memory.remember``, from what apply reports;
5. report: failures counted in words (``plugin.sync.report``), departed read-only accounts put on
   the waiting list (``plugin.sync.departed``).

Besides the plan, two steps act on what it says: the *kill switch* ends the sessions and offline
tokens of everyone the plan disables, right after the disables are written
(``connectors.keycloak_sessions``; the report's ``access_ended`` counts them), and *retention*
(``plugin.sync.retention``, off by default) deletes or unlinks departed people's accounts older than
its rule, its list going through the same brake as the plan's disables.

The whole snapshot is read before anything is written, so a Clever failure mid-run (after the
client's retries) aborts the run with nothing disabled or removed. The plan is a pure diff: a run
where nothing changed in Clever sends no write to Keycloak or LDAP.

The brake: a run that would disable or remove more than ``options.brake_ratio`` (default 10%) of
any kind (students, teachers, staff, parents, classes, memberships) stops before writing and is
held "needs review" with its preview (``plugin.sync.brake``); approving it runs it again with the brake
released (``RunOptions.approved``), discarding drops it (``plugin.runs.state`` keeps both decisions).

Incremental: with a saved event cursor and no ``full``, the run first asks Clever's Events for
changes after the cursor. None → a "no-changes" report without touching Keycloak or LDAP. Some →
only what they touch (and what mapping that needs) is read and planned; a cursor Clever refuses or
has dropped (older than 30 days), or events a snapshot of them cannot decide, fall back to a full
run (a warning says why).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from connectors.clever import CleverClient
from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_sessions import end_access
from connectors.pooling import big_buffers_to_mmap
from model.base import RecordError, RosterSource, SyncError
from model.state import Plan
from plugin.config.settings import Settings
from plugin.sync import retention
from plugin.sync.applied import Applied
from plugin.sync.apply import apply_both
from plugin.sync.brake import preview
from plugin.sync.departed import report_departed
from plugin.sync.describe import describe, ldap_counts
from plugin.sync.memory import remember
from plugin.sync.plan import current_kind
from plugin.sync.planned import Planned
from plugin.sync.planner import RunContext, plan_run
from plugin.sync.report import SyncReport
from plugin.sync.run_options import MANUAL, RunOptions
from plugin.sync.would_change import would_change

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class Start:
    """Where a run starts: the saved event cursor (None: read everything), the chosen schools
    (none: all), and who hears its progress."""

    cursor: str | None = None
    school_ids: tuple[str, ...] = ()
    progress: Progress | None = None


def run_sync(
    settings: Settings,
    run: RunOptions = MANUAL,
    *,
    source: RosterSource | None = None,
    district_id: str = "",
    start: Start = Start(),
    report: SyncReport | None = None,
) -> SyncReport:
    """One sync of a district; returns its report (the caller stores it: ``plugin.runs.jobs``)."""
    big_buffers_to_mmap()  # memory: see its docstring
    report = report or SyncReport(
        district_id=district_id, trigger=run.trigger, dry_run=run.dry_run, started_by=run.started_by
    )
    report.district_id = district_id or report.district_id or settings.clever.district_id
    source = source or CleverClient(settings.clever)
    applied = Applied.from_url(settings.redis_url, settings.keycloak.realm, report.district_id)
    ctx = RunContext(settings, run, report, applied, frozenset(start.school_ids), start.progress)
    try:
        planned = plan_run(ctx, source, start.cursor)
        if planned is None:
            return report.finish("no-changes")
        return _brake_apply_report(ctx, planned)
    finally:
        http = getattr(source, "http", None)  # the Clever client's requests (``plugin.runs.metrics``)
        if http is not None:
            report.preview["requests"] = {"clever": http.requests_made}
            report.preview["errors_by_system"] = {"clever": http.retries}


def _brake_apply_report(ctx: RunContext, planned: Planned) -> SyncReport:
    report, run = ctx.report, ctx.run
    plan, keycloak, mapped = planned.plan, planned.keycloak, planned.mapped
    describe(report, mapped, plan, planned.current, planned.ldap_plan, planned.snapshot.notes)
    report.preview.update(preview(plan, planned.ldap_plan))

    kept = _retention(ctx.settings, report, ctx.applied, planned)  # who retention deletes or unlinks now
    reasons = [*planned.brake, *(kept.reasons if kept else [])]
    held = bool(reasons) and not run.release_brake  # brake
    report.brake = {"held": held, "reasons": reasons}
    if run.dry_run or held:
        report.would_change = would_change(plan, planned.current, mapped.desired)
        if kept is not None:
            report.would_change.add_retention(kept.rows())
        report.calls = dict(keycloak.calls)
        report.writer = keycloak.writer()
        return report.finish("dry-run" if run.dry_run else "held")

    keycloak_failures, ldap_failures = _apply(ctx, planned)  # apply
    report.count_failures(plan, keycloak_failures)  # report: once, in words, and counted as failed
    report.count_failures(plan, ldap_failures, directory="ldap")
    report.ldap = ldap_counts(planned.ldap_plan, ldap_failures)
    report_departed(report, plan, planned.current, keycloak.undisablable)
    _end_access(report, keycloak, plan)  # the kill switch: departed people's sessions, at once
    redis = Redis.from_url(ctx.settings.redis_url)
    remember(planned, ctx.applied, redis, report, {failure.clever_id for failure in keycloak_failures})
    if kept is not None:  # after the memory: retention's accounts are forgotten, not remembered again
        realm = ctx.settings.keycloak.realm
        ctx.applied.forget(retention.apply_retention(keycloak, kept, report, redis, realm))
        retention.note_checked(redis, realm, report.district_id, datetime.now(UTC))
    report.writes = {"keycloak": keycloak.http.writes, "ldap": planned.ldap.counts.writes}
    report.calls = dict(keycloak.calls)
    report.writer = keycloak.writer()
    if fallbacks := report.writer.get("fallbacks"):
        report.warnings.append(
            f"{fallbacks} batch(es) of new accounts could not be written as rows and were written again"
            " through Keycloak's model API (slower, the same accounts; Keycloak's log says why)"
        )
    report.preview["event_cursor"] = planned.event_cursor
    return report.finish_written()


def _apply(ctx: RunContext, planned: Planned) -> tuple[list[RecordError], list[RecordError]]:
    """Write the plan to Keycloak and LDAP at once; a run stopped midway reports what it wrote."""
    report, plan, keycloak, desired = ctx.report, planned.plan, planned.keycloak, planned.mapped.desired
    total, done = plan.size(), 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if ctx.progress:
            ctx.progress("keycloak", done, total)

    # Keycloak's LDAP federation writes new accounts into the directory: when Keycloak fails, or
    # refuses a write without a reason, and the directory does not answer, the run stops as LDAP's.
    keycloak.http.also_ask("ldap", lambda: not planned.ldap.reachable())
    try:
        return apply_both(lambda: keycloak.apply(plan, desired, tick), planned.ldap, planned.ldap_plan)
    except SyncError:  # stopped midway: the report says what was written, not what was planned
        report.count_written(keycloak.written(plan), desired, planned.current, planned.ldap.counts.done)
        report.writes = {"keycloak": keycloak.http.writes, "ldap": planned.ldap.counts.writes}
        report.calls = dict(keycloak.calls)
        raise


def _end_access(report: SyncReport, keycloak: KeycloakDirectory, plan: Plan) -> None:
    """End the sessions and offline tokens of everyone the plan disabled (``connectors.keycloak_sessions``):
    departed, out of the district, a role gone, a held run approved. Whether or not Keycloak took
    the disable (a read-only account it would not disable lost its link instead), the person left."""
    if not plan.disable_users:
        return
    ended = end_access(keycloak.http, [u.keycloak_id for u in plan.disable_users], keycloak.workers)
    report.access_ended = ended.to_dict()
    whose = {u.keycloak_id: u for u in plan.disable_users}
    for keycloak_id, error in ended.failures:
        user = whose[keycloak_id]
        report.errors.append(
            f"keycloak: {user.kind} {user.clever_id}: their sessions were not ended: {error}"
        )


def _retention(
    settings: Settings, report: SyncReport, applied: Applied, planned: Planned
) -> retention.Retention | None:
    """Retention's plan for this run (``plugin.sync.retention``), or None: off, or not due yet."""
    days, realm, now = settings.options.retention_days, settings.keycloak.realm, datetime.now(UTC)
    full = report.mode == "full"
    if not days or not retention.is_due(applied.redis, realm, report.district_id, full=full, now=now):
        return None
    desired = planned.mapped.desired
    totals = applied.totals()
    if full:  # the realm as this run read it: every synced account
        totals = dict(Counter(current_kind(u) for u in planned.current.users.values() if u.enabled))
    return retention.plan_retention(
        planned.keycloak,
        days=days,
        present={*desired.users, *desired.present},
        totals=totals,
        ratio=settings.options.brake_ratio,
        now=now,
    )
