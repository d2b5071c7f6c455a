"""RQ jobs: one sync job per district, a per-district lock, and the weekly window.

Job functions take ids and flags and return the JSON report. A job runs with what the admin page
set for the realm (``page_choices``: the Clever app, the options and the chosen schools, over the
``KCC_*`` environment), so the page's Sync, the weekly run and ``keycloak-clever sync`` agree:

* ``sync_job(district_id, run_id, options)``: ``options`` is a ``plugin.sync.run_options.RunOptions``
  as JSON (the run's flags: full, dry run, trigger, brake released, verify)
* ``weekly_job(district_id)``: runs inside the window, retries inside it, schedules the next one;
  not at all while the page has the integration disabled (Enabled off).

``trigger_sync`` enqueues a run unless one is running or queued for the district, in which case
it answers with that run's id (two triggers never overlap); a queued run whose job died before it
claimed its lease is taken over (``plugin.runs.takeover``). The weekly window is the one the page
saved (``plugin.config.schedule.WeeklySchedule``; default Saturday 00:01 to Sunday 23:59 in
``KCC_TIMEZONE``, else UTC); times are computed on the wall clock of that zone with ``zoneinfo``
and converted to UTC only to schedule, so a DST change moves nothing. The next weekly
run is an RQ scheduled job (``enqueue_at``), kept in Redis: it survives worker restarts, and
Redis restarts with its append-only file. ``worker.py`` calls ``ensure_weekly`` at start. Each
scheduled weekly job has an id of its own (``weekly-<district>-<when>``): a job that scheduled its
successor under its own id would have it expire with its result (RQ's ``result_ttl``).

While a job runs it writes ``job.meta["progress"] = {"stage", "done", "total"}`` (at most every
``PROGRESS_EVERY`` seconds, and at the end of each stage), which the admin page's bar reads.
"""

from __future__ import annotations

import contextlib
import logging
import time as clock
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job

from plugin.config.schedule import WeeklySchedule
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore, settings_for
from plugin.runs import queues, takeover
from plugin.runs.audit import BY_SCHEDULE, remember_weekly
from plugin.runs.changes import ChangeStore
from plugin.runs.metrics import errors_by_system, record_run
from plugin.runs.standing import StandingStore
from plugin.runs.state import SyncState
from plugin.sync.failures import failure_line, probes_for
from plugin.sync.full_run import full_run_reason, save_choices
from plugin.sync.pipeline import Start, run_sync
from plugin.sync.report import SyncReport
from plugin.sync.run_options import MANUAL, RunOptions

log = logging.getLogger(__name__)
QUEUE_NAME = "keycloak-clever"
RETRY_AFTER = timedelta(minutes=30)
# The weekly run also reads every member list (drift made by hand: ``plugin.sync.applied``).
WEEKLY = RunOptions(trigger="weekly", verify=True, started_by=BY_SCHEDULE)
PROGRESS_EVERY = 0.5  # seconds between two writes of a job's progress to Redis
SEEN_EVERYONE = ("ok", "partial")  # runs whose waiting list is current (with what they carried)


# -- the weekly window (pure: ``plugin.config.schedule``) -------------------------------------------

Window = WeeklySchedule | str  # a schedule, or the default days in the zone named


def _schedule(window: Window) -> WeeklySchedule:
    return window if isinstance(window, WeeklySchedule) else WeeklySchedule(timezone=window)


def window_around(now: datetime, window: Window) -> tuple[datetime, datetime]:
    """The window containing ``now``, or else the next one: (opens, closes), aware, in the zone."""
    return _schedule(window).window_around(now)


# -- what the admin page set -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageChoices:
    """What a job runs with: Settings with the page's choices applied, the chosen schools, Enabled."""

    settings: Settings
    school_ids: tuple[str, ...] = ()  # empty: every school of the district
    enabled: bool = True  # False only once the page has saved "Enabled" off
    schedule: WeeklySchedule = field(default_factory=WeeklySchedule)  # the weekly window the page saved


def page_choices(settings: Settings) -> PageChoices:
    """The page's Clever app, district, options and schools over ``settings`` (``plugin.config.store``).

    With nothing saved on the page yet, ``settings`` as they are, every school, and enabled (a
    deployment configured through ``KCC_*`` alone keeps its weekly run).
    """
    redis = Redis.from_url(settings.redis_url)
    store = ConfigStore(redis, settings)
    config = store.load()
    return PageChoices(
        settings=settings_for(redis, settings),
        school_ids=config.school_ids,
        enabled=config.enabled or not store.saved(),
        schedule=config.weekly_schedule(settings.options.timezone),
    )


# -- enqueueing ------------------------------------------------------------------------------------


def queue_for(settings: Settings) -> Queue:
    return queues.queue(QUEUE_NAME, Redis.from_url(settings.redis_url))


def trigger_sync(settings: Settings, district_id: str, run: RunOptions = MANUAL) -> tuple[str, bool]:
    """Queue a sync of ``district_id``; (run id, True) when queued, (running run id, False) otherwise.

    A run whose job died before it held its lease is taken over (``plugin.runs.takeover``)."""
    state = state_for(settings)
    run_id = uuid.uuid4().hex[:12]
    running = takeover.acquire(state, district_id, run_id)
    if running is not None:
        return running, False
    queue_for(settings).enqueue(
        sync_job,
        district_id,
        run_id,
        run=run.to_json(),
        job_id=takeover.sync_job_id(run_id),
        job_timeout=4 * 3600,
    )
    return run_id, True


def state_for(settings: Settings) -> SyncState:
    """The sync state in the settings' Redis, with the settings' lease."""
    return SyncState.from_url(settings.redis_url, settings.options.lease_s)


def sync_job(
    district_id: str,
    run_id: str,
    run: RunOptions | Mapping[str, Any] = MANUAL,
    *,
    settings: Settings | None = None,
    source: Any = None,
) -> dict[str, Any]:
    """Run one sync with the page's choices (the lock for ``run_id`` is already held); store its report.

    ``run``: the run's flags, as ``RunOptions`` or (in an RQ job) its JSON.
    """
    run = run if isinstance(run, RunOptions) else RunOptions.from_json(run)
    settings = settings or Settings.from_env()
    state = state_for(settings)
    # First of all: the queued lock becomes a lease (a job that dies from here frees the district
    # within the lease; before here, ``plugin.runs.takeover`` sees it died).
    holder = state.claim(district_id, run_id)
    if holder is not None:  # the queued lock lapsed or was taken over: another run has the district
        report = _new_report(run, district_id, run_id)
        report.errors.append(f"refused: run {holder} is syncing this district")
        state.save(report.finish("failed"))
        return report.to_dict()
    job = get_current_job()
    try:
        page = page_choices(settings)
        report = run_locked(
            page.settings,
            state,
            district_id,
            run_id,
            run,
            source=source,
            progress=JobProgress(job) if job is not None else None,
            school_ids=page.school_ids,
        )
    finally:
        state.release(district_id, run_id)
    return report.to_dict()


class JobProgress:
    """``run_sync``'s ``progress(stage, done, total)`` written to ``job.meta["progress"]``, throttled:
    at most every ``every`` seconds, and always when a stage's count reaches its total."""

    def __init__(
        self, job: Job, every: float = PROGRESS_EVERY, now: Callable[[], float] = clock.monotonic
    ) -> None:
        self.job = job
        self.every = every
        self.now = now
        self._written = float("-inf")

    def __call__(self, stage: str, done: int, total: int) -> None:
        moment = self.now()
        if done < total and moment - self._written < self.every:
            return
        self._written = moment
        self.job.meta["progress"] = {"stage": stage, "done": done, "total": total}
        try:
            self.job.save_meta()  # type: ignore[no-untyped-call]
        except RedisError:  # Redis restarting: the bar shows the next one, the run goes on
            log.warning("job %s: its progress could not be stored", self.job.id)


def run_locked(
    settings: Settings,
    state: SyncState,
    district_id: str,
    run_id: str,
    run: RunOptions = MANUAL,
    *,
    source: Any = None,
    progress: Any = None,
    school_ids: tuple[str, ...] = (),
) -> SyncReport:
    """The job boundary: run, store the report (held runs too), move the cursor on success.

    The run holds the district as a lease from its first step (``SyncState.lease``)."""
    report = _new_report(run, district_id, run_id)
    with state.lease(district_id, run_id) as lost:
        cursor = None if run.full else state.cursor(district_id)
        if cursor is not None and (why := full_run_reason(state.redis, settings, district_id, school_ids)):
            cursor, run = None, replace(run, full=True)  # a change on this side: ``plugin.sync.full_run``
            report.preview["full_because"] = why
        earlier = next((r for r in state.history(district_id, 10) if r.status in SEEN_EVERYONE), None)
        state.save(report)
        for dead in state.reap(district_id, run_id):
            report.warnings.append(f"run {dead} had stopped without finishing (worker died): taken over")
        try:
            report = run_sync(
                settings,
                run,
                source=source,
                district_id=district_id,
                start=Start(cursor, school_ids, progress),
                report=report,
            )
        except Exception as exc:  # the job boundary: every failure ends in a stored report
            log.exception("sync %s of district %s failed", run_id, district_id)
            report.errors.append(failure_line(exc, probes_for(settings)))  # the part that failed, in words
            report.finish("failed")
            _record_metrics(state, report)
            state.save(report)
            raise
    if lost.is_set():
        report.warnings.append("this run lost the district's lease (it stalled): check the next run")
    if earlier is not None and report.status in (*SEEN_EVERYONE, "no-changes") and report.mode != "full":
        report.carry_waiting(earlier)  # the people it did not read again are still waiting
    StandingStore(state.redis).advance(report)
    if report.would_change is not None:  # a held or dry run: who it would disable or remove
        ChangeStore(state.redis).save(run_id, report.would_change)
    _record_metrics(state, report)
    if report.status == "held":
        state.hold(report)
    elif report.status == "ok":
        cursor = report.preview.get("event_cursor")
        if cursor:
            state.set_cursor(district_id, cursor)
            save_choices(state.redis, settings, district_id, school_ids)
    state.save(report)
    return report


def _record_metrics(state: SyncState, report: SyncReport) -> None:
    """The run's numbers into the Prometheus counters (``plugin.runs.metrics``); never fails the run."""
    counts = errors_by_system(report)
    counts["clever"] += int(report.preview.get("errors_by_system", {}).get("clever", 0))
    report.preview["errors_by_system"] = counts
    requests = report.preview.setdefault("requests", {})
    requests["keycloak"] = sum(report.calls.values())
    try:
        record_run(state.redis, report)
    except RedisError:
        log.warning("run %s: its metrics could not be recorded", report.run_id)


def weekly_job(
    district_id: str, *, settings: Settings | None = None, now: datetime | str | None = None
) -> dict[str, Any] | None:
    """The weekly run: once per window; on failure retried inside it; then the next one is scheduled.

    ``now`` (default: the clock) decides the window, the retry and the next run; tests pass one
    (an ISO 8601 string when enqueued: job arguments are JSON).
    Nothing runs, and nothing is scheduled, while the page has the integration disabled: turning
    it on again schedules the next run (``plugin.admin.actions.set_enabled``).
    """
    page = page_choices(settings or Settings.from_env())
    settings = page.settings
    if not page.enabled:
        log.info("weekly sync of district %s skipped: the integration is disabled (admin page)", district_id)
        return None
    state = state_for(settings)
    now = datetime.fromisoformat(now) if isinstance(now, str) else now or datetime.now(UTC)
    schedule = page.schedule
    opens, closes = schedule.window_around(now)
    queue = queue_for(settings)
    if not opens <= now <= closes or state.weekly_done(district_id) == opens.date().isoformat():
        # Outside the window (the schedule changed since this job was queued), or done already.
        schedule_weekly(queue, district_id, schedule, after=closes if opens <= now else None, now=now)
        return None
    run_id = uuid.uuid4().hex[:12]
    running = takeover.acquire(state, district_id, run_id, ttl=state.lease_s)
    if running is not None:
        queue.enqueue_in(RETRY_AFTER, weekly_job, district_id, job_id=f"weekly-{district_id}-{run_id}")
        return None
    remember_weekly(state.redis, district_id, run_id)
    try:
        report = run_locked(settings, state, district_id, run_id, WEEKLY, school_ids=page.school_ids)
    except Exception:
        retry_at = now + RETRY_AFTER
        if retry_at < closes:
            queue.enqueue_at(retry_at, weekly_job, district_id, job_id=f"weekly-{district_id}-retry-{run_id}")
        else:
            schedule_weekly(queue, district_id, schedule, after=closes)
        raise
    finally:
        state.release(district_id, run_id)
    state.set_weekly_done(district_id, opens.date().isoformat())
    schedule_weekly(queue, district_id, schedule, after=closes)
    return report.to_dict()


def weekly_job_ids(queue: Queue, district_id: str) -> list[str]:
    """The district's scheduled weekly jobs (the next run, and any retry)."""
    base = f"weekly-{district_id}"
    return [i for i in queue.scheduled_job_registry.get_job_ids() if i == base or i.startswith(base + "-")]


def cancel_weekly(queue: Queue, district_id: str) -> None:
    """Unschedule the district's weekly runs (Enabled off on the page)."""
    for job_id in weekly_job_ids(queue, district_id):
        queue.scheduled_job_registry.remove(job_id)
        with contextlib.suppress(NoSuchJobError):  # already run, or expired
            queues.fetch(job_id, queue.connection).delete()


def schedule_weekly(
    queue: Queue,
    district_id: str,
    window: Window,
    *,
    after: datetime | None = None,
    now: datetime | None = None,
) -> Job:
    """Schedule the next weekly run, in place of any scheduled before (one per district): the next
    opening after ``after`` (a window that ran), else now if a window is open, else the next one."""
    start = after + timedelta(minutes=1) if after else now or datetime.now(UTC)
    when = _schedule(window).next_run(start)
    cancel_weekly(queue, district_id)
    job_id = f"weekly-{district_id}-{when:%Y%m%dT%H%M%S}"
    job: Job = queue.enqueue_at(when, weekly_job, district_id, job_id=job_id)
    return job


def ensure_weekly(settings: Settings) -> Job | None:
    """At worker start: make sure the district's next weekly run is scheduled (unless disabled)."""
    page = page_choices(settings)
    district_id = page.settings.clever.district_id
    if not district_id or not page.enabled:
        return None
    queue = queue_for(settings)
    if weekly_job_ids(queue, district_id):
        return None
    return reschedule_weekly(settings, district_id, page.schedule)


def reschedule_weekly(settings: Settings, district_id: str, schedule: WeeklySchedule) -> Job:
    """The district's next weekly run by ``schedule`` (at worker start, or when the page saves a new
    one): now if its window is open and has not run, else its next opening."""
    opens, closes = schedule.window_around(datetime.now(UTC))
    done = SyncState.from_url(settings.redis_url).weekly_done(district_id) == opens.date().isoformat()
    return schedule_weekly(queue_for(settings), district_id, schedule, after=closes if done else None)


def scheduled_weekly(settings: Settings, district_id: str) -> datetime | None:
    """When the district's next weekly run is scheduled (UTC), or None."""
    queue = queue_for(settings)
    times = [queue.scheduled_job_registry.get_scheduled_time(i) for i in weekly_job_ids(queue, district_id)]
    return min(times).replace(tzinfo=UTC) if times else None


def _new_report(run: RunOptions, district_id: str, run_id: str) -> SyncReport:
    """The report a run of ``run`` starts with (and a refused one ends with)."""
    return SyncReport(
        run_id=run_id,
        district_id=district_id,
        trigger=run.trigger,
        dry_run=run.dry_run,
        started_by=run.started_by,
    )
