"""RQ jobs: one sync job per district, a per-district lock, and the weekly window.

Job functions take ids and flags and return the JSON report, so a worker needs nothing but
Settings from the environment:

* ``sync_job(district_id, run_id, full=False, dry_run=False, trigger="manual", release_brake=False,
  verify=False)``
* ``weekly_job(district_id)``: runs inside the window, retries inside it, schedules the next one.

``trigger_sync`` enqueues a run unless one is running or queued for the district, in which case
it answers with that run's id (two triggers never overlap). The weekly window is Saturday 00:01
to Sunday 23:59 in ``options.timezone``; times are computed on the wall clock of that zone with
``zoneinfo`` and converted to UTC only to schedule, so a DST change moves nothing. The next weekly
run is an RQ scheduled job (``enqueue_at``), kept in Redis: it survives worker restarts, and
Redis restarts with its append-only file. ``worker.py`` calls ``ensure_weekly`` at start.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Queue
from rq.job import Job

from plugin.report import SyncReport
from plugin.settings import Settings
from plugin.state import SyncState

log = logging.getLogger(__name__)
QUEUE_NAME = "keycloak-clever"
WINDOW_OPENS = time(0, 1)  # Saturday
WINDOW_CLOSES = time(23, 59)  # Sunday
RETRY_AFTER = timedelta(minutes=30)


# -- the weekly window (pure) ----------------------------------------------------------------------


def window_around(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The window containing ``now``, or else the next one: (opens, closes), aware, in the zone."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    saturday = local.date() - timedelta(days=(local.weekday() - 5) % 7)  # this week's (or last) Saturday
    opens, closes = _window(saturday, zone)
    if local > closes:
        opens, closes = _window(saturday + timedelta(days=7), zone)
    return opens, closes


def _window(saturday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    opens = datetime.combine(saturday, WINDOW_OPENS, tzinfo=zone)
    closes = datetime.combine(saturday + timedelta(days=1), WINDOW_CLOSES, tzinfo=zone)
    return opens, closes


def in_window(now: datetime, timezone: str) -> bool:
    opens, closes = window_around(now, timezone)
    return opens <= now <= closes


def next_weekly_run(now: datetime, timezone: str) -> datetime:
    """When the next weekly run should start, in UTC: now if inside a window, else the next opening."""
    opens, _ = window_around(now, timezone)
    return max(now, opens).astimezone(UTC)


# -- enqueueing ------------------------------------------------------------------------------------


def queue_for(settings: Settings) -> Queue:
    return Queue(QUEUE_NAME, connection=Redis.from_url(settings.redis_url))


def trigger_sync(
    settings: Settings,
    district_id: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
    release_brake: bool = False,
    verify: bool = False,
) -> tuple[str, bool]:
    """Queue a sync of ``district_id``; (run id, True) when queued, (running run id, False) otherwise."""
    state = SyncState.from_url(settings.redis_url)
    run_id = uuid.uuid4().hex[:12]
    running = state.acquire(district_id, run_id)
    if running is not None:
        return running, False
    queue_for(settings).enqueue(
        sync_job,
        district_id,
        run_id,
        full=full,
        dry_run=dry_run,
        trigger=trigger,
        release_brake=release_brake,
        verify=verify,
        job_id=f"sync-{run_id}",
        job_timeout=4 * 3600,
    )
    return run_id, True


def sync_job(
    district_id: str,
    run_id: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
    release_brake: bool = False,
    verify: bool = False,
    settings: Settings | None = None,
    source: Any = None,
) -> dict[str, Any]:
    """Run one sync (the lock for ``run_id`` is already held) and store its report."""
    settings = settings or Settings.from_env()
    state = SyncState.from_url(settings.redis_url)
    try:
        report = run_locked(
            settings,
            state,
            district_id,
            run_id,
            full=full,
            dry_run=dry_run,
            trigger=trigger,
            release_brake=release_brake,
            verify=verify,
            source=source,
        )
    finally:
        state.release(district_id, run_id)
    return report.to_dict()


def run_locked(
    settings: Settings,
    state: SyncState,
    district_id: str,
    run_id: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
    release_brake: bool = False,
    verify: bool = False,
    source: Any = None,
    progress: Any = None,
) -> SyncReport:
    """The job boundary: run, store the report (held runs too), move the cursor on success."""
    from plugin.sync import run_sync

    report = SyncReport(run_id=run_id, district_id=district_id, trigger=trigger, dry_run=dry_run)
    state.save(report)
    try:
        report = run_sync(
            settings,
            source=source,
            district_id=district_id,
            dry_run=dry_run,
            full=full,
            cursor=None if full else state.cursor(district_id),
            trigger=trigger,
            release_brake=release_brake,
            verify=verify,
            progress=progress,
            report=report,
        )
    except Exception as exc:  # the job boundary: every failure ends in a stored report
        log.exception("sync %s of district %s failed", run_id, district_id)
        report.errors.append(f"{type(exc).__name__}: {exc}")
        report.finish("failed")
        state.save(report)
        raise
    if report.status == "held":
        state.hold(report)
    elif report.status == "ok":
        cursor = report.preview.get("event_cursor")
        if cursor:
            state.set_cursor(district_id, cursor)
    state.save(report)
    return report


def weekly_job(district_id: str, *, settings: Settings | None = None) -> dict[str, Any] | None:
    """The weekly run: once per window; on failure retried inside it; then the next one is scheduled."""
    settings = settings or Settings.from_env()
    state = SyncState.from_url(settings.redis_url)
    now = datetime.now(UTC)
    opens, closes = window_around(now, settings.options.timezone)
    queue = queue_for(settings)
    if not opens <= now <= closes or state.weekly_done(district_id) == opens.date().isoformat():
        schedule_weekly(queue, district_id, settings.options.timezone, after=closes)
        return None
    run_id = uuid.uuid4().hex[:12]
    running = state.acquire(district_id, run_id)
    if running is not None:
        queue.enqueue_in(RETRY_AFTER, weekly_job, district_id, job_id=f"weekly-{district_id}-{run_id}")
        return None
    try:
        # The weekly run also reads every member list (drift made by hand: ``plugin.applied``).
        report = run_locked(settings, state, district_id, run_id, trigger="weekly", verify=True)
    except Exception:
        retry_at = now + RETRY_AFTER
        if retry_at < closes:
            queue.enqueue_at(retry_at, weekly_job, district_id, job_id=f"weekly-{district_id}-retry-{run_id}")
        else:
            schedule_weekly(queue, district_id, settings.options.timezone, after=closes)
        raise
    finally:
        state.release(district_id, run_id)
    state.set_weekly_done(district_id, opens.date().isoformat())
    schedule_weekly(queue, district_id, settings.options.timezone, after=closes)
    return report.to_dict()


def schedule_weekly(queue: Queue, district_id: str, timezone: str, *, after: datetime | None = None) -> Job:
    """Schedule the next weekly run (one scheduled job per district: the job id is fixed)."""
    when = next_weekly_run(after + timedelta(minutes=1) if after else datetime.now(UTC), timezone)
    job_id = f"weekly-{district_id}"
    existing = queue.scheduled_job_registry.get_job_ids()
    if job_id in existing:
        queue.scheduled_job_registry.remove(job_id)
    job: Job = queue.enqueue_at(when, weekly_job, district_id, job_id=job_id)
    return job


def ensure_weekly(settings: Settings) -> Job | None:
    """At worker start: make sure the district's next weekly run is scheduled."""
    district_id = settings.clever.district_id
    if not district_id:
        return None
    queue = queue_for(settings)
    if f"weekly-{district_id}" in queue.scheduled_job_registry.get_job_ids():
        return None
    return schedule_weekly(queue, district_id, settings.options.timezone)
