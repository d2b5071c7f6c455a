"""Continuous updates: an incremental run from Clever's events every N minutes, beside the weekly run.

Off by default (``KCC_CONTINUOUS``, the page's "Continuous updates"): then nothing here is ever
scheduled and the weekly window and the page's Sync are all there is, as in the article. On, every
``continuous_minutes`` (``KCC_CONTINUOUS_MINUTES``, default 2, at least 1) a *tick*
(``continuous_job``):

1. does nothing, and schedules nothing, while the page has the integration or continuous updates
   off (turning either on schedules the next tick again: ``reschedule``);
2. schedules the next tick first, so a tick that fails or whose worker dies still has a successor;
3. skips while a run is held for review (its events cannot be applied past the brake; a new run
   would only be held again), and before the district's first sync (no event cursor yet);
4. takes the district's lock as any run does (``plugin.runs.takeover``: a queued run whose job died
   is taken over); while another run holds it (a Sync, the weekly run, a queued run) the tick is
   *skipped*, never queued behind it;
5. asks Clever's events since the cursor (``plugin.sync.snapshot_events.events_since``): none, and the
   tick only notes that Clever was checked (no report: a report every two minutes would push every
   real run out of the history); some, and it is an ordinary incremental run (``run_locked``,
   trigger ``continuous``), with the brake, the report, the kill switch and the cursor as any run.

So that a fault does not fill the history with a report every two minutes: after a run that
*failed* (Keycloak or the directory down) the ticks back off, the interval doubled for each failure
in a row, up to an hour (``backoff_s``); after a run that ended *partial* (a record Keycloak
refuses; the cursor stays where it was) a tick runs again only once Clever has a newer event
(``unchanged`` otherwise), and every such run retries what failed, as the weekly run does.

What each tick did is kept in ``plugin.runs.freshness`` (the page, ``keycloak-clever status`` and
the ``/metrics`` lag read it). The weekly verify run is unchanged and still reads everything.

Rate limits: a tick with nothing new costs two Clever requests (the cursor's event, and the events
after it), so even every minute it is a thousandth of Clever's 1,200 requests a minute per token;
a tick with changes reads what they touch, through the same client that waits for Clever's
rate-limit window to reset rather than earn a 429 (``connectors.clever_http``).

Why RQ's scheduler rather than ``rq cron``: RQ 3.0's ``rq cron`` is a separate process whose jobs are
fixed in a configuration file when it starts (a new interval on the page would need that process
restarted), and its ``CronJob.enqueue`` makes ``Queue(name, connection)`` with RQ's default pickle
serializer, which the workers here refuse by design (``plugin.runs.queues``: JSON only). The
weekly run already lives on RQ's scheduler (``enqueue_at``, run by ``worker.py``'s
``with_scheduler=True``), so the ticks do too. They sit on a fixed grid (every N minutes counted from
the Unix epoch): a tick schedules the next grid point, and ``ensure_continuous`` (worker start) and
the page's save schedule the next one after now, all under the same job id, so restarts, a second
worker or a save never make two chains or shift the rhythm.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from connectors.clever import CleverClient
from model.base import RosterSource, SyncError
from plugin.config.settings import Settings
from plugin.runs import freshness, queues, takeover
from plugin.runs.jobs import PageChoices, page_choices, queue_for, run_locked, state_for
from plugin.runs.state import SyncState
from plugin.sync.full_run import full_run_reason
from plugin.sync.report import SyncReport
from plugin.sync.retention import rule_words
from plugin.sync.run_options import RunOptions
from plugin.sync.snapshot_events import events_since

log = logging.getLogger(__name__)
BY_CONTINUOUS = "continuous updates"
CONTINUOUS = RunOptions(trigger="continuous", started_by=BY_CONTINUOUS)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A tick's job is gone from Redis soon after it ran (its outcome is in ``plugin.runs.freshness``);
# one that failed stays a day in RQ's failed registry, not RQ's default year (720 ticks a day).
RESULT_TTL = 300
FAILURE_TTL = 24 * 3600
# After a continuous run that failed, the next ticks wait longer each time, up to an hour: an outage
# leaves a failed report an hour, not one every two minutes. A run that ended ``partial`` is not run
# again until Clever has something new (its failures are retried by every later run).
BACKOFF_MAX_S = 3600
FULL = "full"  # ``_news``: a run must read everything


# -- the grid --------------------------------------------------------------------------------------


def next_tick(after: datetime, minutes: int) -> datetime:
    """The first grid point strictly after ``after``: every ``minutes`` from the Unix epoch, in UTC."""
    step = timedelta(minutes=minutes)
    elapsed = after.astimezone(UTC) - EPOCH
    return EPOCH + (elapsed // step + 1) * step


def tick_ids(queue: Queue, district_id: str) -> list[str]:
    """The district's scheduled ticks (one, unless a save raced a tick)."""
    base = f"continuous-{district_id}-"
    return [i for i in queue.scheduled_job_registry.get_job_ids() if i.startswith(base)]


def schedule_tick(queue: Queue, district_id: str, minutes: int, *, after: datetime | None = None) -> Job:
    """Schedule the district's tick at the next grid point after ``after`` (default: now)."""
    when = next_tick(after or datetime.now(UTC), minutes)
    job: Job = queue.enqueue_at(
        when,
        continuous_job,
        district_id,
        job_id=f"continuous-{district_id}-{when:%Y%m%dT%H%M%S}",
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
    )
    return job


def cancel(queue: Queue, district_id: str) -> None:
    """Unschedule the district's ticks (continuous updates or the integration turned off)."""
    for job_id in tick_ids(queue, district_id):
        queue.scheduled_job_registry.remove(job_id)
        with contextlib.suppress(NoSuchJobError):
            queues.fetch(job_id, queue.connection).delete()


def reschedule(settings: Settings, district_id: str) -> Job | None:
    """The page saved continuous updates (or Enabled): the next tick by the options now in force,
    in place of any scheduled before; None (nothing scheduled) when they are off."""
    queue = queue_for(settings)
    cancel(queue, district_id)
    page = page_choices(settings)
    if not (page.enabled and page.settings.options.continuous and district_id):
        return None
    return schedule_tick(queue, district_id, page.settings.options.continuous_minutes)


def ensure_continuous(settings: Settings) -> Job | None:
    """At worker start: the district's next tick, unless one is scheduled or the mode is off."""
    page = page_choices(settings)
    district_id = page.settings.clever.district_id
    if not (district_id and page.enabled and page.settings.options.continuous):
        return None
    queue = queue_for(settings)
    if tick_ids(queue, district_id):
        return None
    return schedule_tick(queue, district_id, page.settings.options.continuous_minutes)


def scheduled_tick(settings: Settings, district_id: str) -> datetime | None:
    """When the district's next tick is scheduled (UTC), or None."""
    queue = queue_for(settings)
    times = [queue.scheduled_job_registry.get_scheduled_time(i) for i in tick_ids(queue, district_id)]
    return min(times).replace(tzinfo=UTC) if times else None


# -- what the page and the CLI show ----------------------------------------------------------------

DEFAULT_RETENTION_DAYS = 30  # what the page's field offers before a rule is saved


def every(minutes: int) -> str:
    """ "minute", "2 minutes"."""
    return "minute" if minutes == 1 else f"{minutes} minutes"


def status(settings: Settings, district_id: str, state: SyncState, *, saved: bool = False) -> dict[str, Any]:
    """Continuous updates, freshness and the retention rule as the page, its API and ``keycloak-clever
    status`` show them (``settings``: the effective ones, the page's choices applied)."""
    options = settings.options
    fresh = freshness.load(state.redis, district_id) if district_id else freshness.Freshness()
    scheduled = scheduled_tick(settings, district_id) if district_id and options.continuous else None
    held = state.held(district_id) if district_id else None
    return {
        "continuous": options.continuous,
        "minutes": options.continuous_minutes,
        "every": every(options.continuous_minutes),
        "saved": saved,
        "next_tick": scheduled.isoformat() if scheduled else "",
        "paused_by": held.run_id if held and options.continuous else "",
        "retention_days": options.retention_days,
        "retention_words": rule_words(options.retention_days),
        "retention_field": options.retention_days or DEFAULT_RETENTION_DAYS,
        **fresh.to_dict(),
    }


# -- the tick --------------------------------------------------------------------------------------


def continuous_job(
    district_id: str, *, settings: Settings | None = None, source: RosterSource | None = None
) -> dict[str, Any]:
    """One tick (see the module docstring); what it did, as JSON (``outcome``, ``run_id``, ``status``)."""
    page = page_choices(settings or Settings.from_env())
    options = page.settings.options
    if not (page.enabled and options.continuous):
        log.info("continuous updates of district %s are off: no more ticks", district_id)
        return {"outcome": "off"}
    try:  # the next tick first: this one may fail or be killed
        schedule_tick(queue_for(page.settings), district_id, options.continuous_minutes)
    except RedisError:  # the worker's start or the page's next save schedules it again
        log.error("continuous updates of district %s: the next tick could not be scheduled", district_id)
    return tick(page, district_id, source=source)


def tick(page: PageChoices, district_id: str, *, source: RosterSource | None = None) -> dict[str, Any]:
    """Check Clever and apply what changed, unless a run is held, none has run yet, or one is running."""
    settings = page.settings
    state = state_for(settings)
    started = time.time()
    answer: dict[str, Any] = {"outcome": "", "run_id": "", "status": ""}

    def done(outcome: str, note: str = "") -> dict[str, Any]:
        freshness.note_tick(state.redis, district_id, outcome, started=started, note=note)
        answer["outcome"] = outcome
        return answer

    if (held := state.held(district_id)) is not None:
        return done("held", f"run {held.run_id}")
    cursor = state.cursor(district_id)
    if cursor is None:
        return done("no-cursor")
    before = freshness.load(state.redis, district_id)
    if (wait := backoff_s(before, settings.options.continuous_minutes, started)) > 0:
        return done("backoff", f"{before.failures} failed in a row; next try in {int(wait)} s")
    run_id = uuid.uuid4().hex[:12]
    running = takeover.acquire(state, district_id, run_id, ttl=settings.options.lease_s)
    if running is not None:
        log.info("continuous tick of district %s skipped: run %s holds it", district_id, running)
        return done("busy", f"run {running}")
    try:
        with state.lease(district_id, run_id):
            source = source or CleverClient(settings.clever)
            newest = _news(settings, source, district_id, cursor, page.school_ids)
            if not newest:
                return done("checked")
            if newest == before.stuck_at and newest != FULL:
                return done("unchanged")
            answer["run_id"] = run_id
            report = run_locked(
                settings, state, district_id, run_id, CONTINUOUS, source=source, school_ids=page.school_ids
            )
        freshness.note_result(state.redis, district_id, report.status, newest=newest, at=started)
        answer["status"] = report.status
        return done("ran", f"run {run_id}: {report.status}")
    except Exception as exc:  # the job boundary: a run's own report says more (``run_locked``)
        if not isinstance(exc, SyncError):
            log.exception("continuous tick of district %s failed", district_id)
        log.warning("continuous tick of district %s failed: %s", district_id, type(exc).__name__)
        if answer["run_id"]:  # its run failed (its report says so): the next ticks back off
            freshness.note_result(state.redis, district_id, "failed", newest="", at=started)
        return done("failed", f"{type(exc).__name__}: {exc}"[:300])
    finally:
        state.release(district_id, run_id)


def backoff_s(fresh: freshness.Freshness, minutes: int, now: float) -> float:
    """Seconds the ticks still wait after continuous runs that failed: the interval doubled for each
    failure in a row (a Keycloak or directory outage), at most ``BACKOFF_MAX_S``; 0 when none."""
    if not fresh.failures:
        return 0.0
    wait = min(BACKOFF_MAX_S, minutes * 60 * (1 << min(fresh.failures, 10)))
    return max(0.0, fresh.failed_at + wait - now)


def _news(
    settings: Settings, source: RosterSource, district_id: str, cursor: str, school_ids: tuple[str, ...]
) -> str:
    """What a run has to do: the newest event after the cursor; ``FULL`` for a cursor Clever no longer
    has, ``FULL:<newest>`` when choices changed on the page since the last run (``full_run_reason``):
    a full run either way; or "" for nothing."""
    events = events_since(source, cursor, SyncReport(district_id=district_id))
    if events is None:
        return FULL
    newest = events[-1].event_id if events else ""
    if full_run_reason(state_for(settings).redis, settings, district_id, school_ids):
        return f"{FULL}:{newest}"
    return newest
