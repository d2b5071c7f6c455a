"""Taking a district's lock, and taking it over from a run that died before it held its lease.

A run holds its district in one of two ways (``plugin.runs.state``):

* a **lease** of ``lease_s`` seconds (30 by default) that the running run renews: when its process
  dies, the lease lapses by itself and the district is free within ``lease_s``;
* a **queued lock** (``LOCK_TTL``, six hours) from ``trigger_sync`` until its RQ job starts and turns
  it into a lease: a job waits in the queue as long as the workers are busy.

A queued lock is only as good as its job. ``acquire`` takes the district over at once when the
job of the run that holds it can no longer run:

* the job is gone (expired, deleted), failed, stopped or canceled;
* a worker took the job off the queue and then died before the job claimed its lease: the job is
  in none of RQ's queues any more, and it left the queue more than ``CLAIM_WITHIN`` seconds ago (a
  live worker's job claims its lease at once: the first thing ``sync_job`` does). When it left is
  when RQ marked it started, or made its execution record; a job off the queue with neither is
  looked at again after ``BEAT`` seconds (a live worker writes them right after it takes a job).

So whoever triggers a run (the page, ``keycloak-clever sync``, the weekly run) finds the district
free within ``CLAIM_WITHIN`` of such a death, not six hours later. Taking over a job that was in
fact alive and slow is safe: when it then claims, the district is held by the new run and the job
stops with "refused: run ... is syncing this district" in its report.

``job_state`` names an RQ job's state in the words the page, the CLI and the JSON API show.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from redis import Redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from plugin.runs import queues
from plugin.runs.state import LOCK_TTL, SyncState

log = logging.getLogger(__name__)
CLAIM_WITHIN = 20.0  # seconds a job may take from leaving the queue to claiming its lease
BEAT = 1.0  # seconds before a job off the queue with no sign of a worker is looked at again
ENDED = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})
WORDS = {
    JobStatus.CREATED: "queued",
    JobStatus.QUEUED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "stopped",
    JobStatus.CANCELED: "canceled",
    JobStatus.SCHEDULED: "scheduled",
    JobStatus.DEFERRED: "waiting",
    JobStatus.RATE_LIMITED: "waiting",
    JobStatus.READY_TO_ENQUEUE: "queued",
}


def sync_job_id(run_id: str) -> str:
    """The RQ job id of a queued run (``plugin.runs.jobs.trigger_sync``)."""
    return f"sync-{run_id}"


def acquire(state: SyncState, district_id: str, run_id: str, ttl: int = LOCK_TTL) -> str | None:
    """Take the district for ``run_id`` (a lock of ``ttl`` seconds), taking it over from a run
    whose job died before it held its lease; the id of the run that holds it otherwise."""
    running = state.acquire(district_id, run_id, ttl)
    if running is not None and stale(state, district_id, running):
        log.warning(
            "district %s: run %s's job died before it started: run %s takes over",
            district_id,
            running,
            run_id,
        )
        running = None if state.take_over(district_id, running, run_id, ttl) else running
    return running


def stale(state: SyncState, district_id: str, run_id: str, *, beat: float = BEAT) -> bool:
    """True when ``run_id`` holds the district with a queued lock its job will never turn into a lease."""
    if 0 <= state.lock_ttl(district_id) <= state.lease_s:
        return False  # a lease: it lapses by itself when its run dies
    job = _job(state.redis, run_id)
    if job is None:
        return True
    status = _status(job)
    if status is None or status in ENDED:
        return True
    if status not in (JobStatus.QUEUED, JobStatus.STARTED) or _in_queue(state.redis, job):
        return False  # waiting in the queue for a worker, scheduled, or finished (a sharded run's)
    left = _left_queue(job)
    if left is None:  # off the queue with no sign of a worker: a live one leaves one at once
        if not beat:
            return True
        time.sleep(beat)
        return stale(state, district_id, run_id, beat=0.0)
    return _age(left) > CLAIM_WITHIN


def job_state(redis: Redis, run_id: str) -> str:
    """The state of a queued run's RQ job in plain words: queued, running, finished, failed,
    stopped, canceled, scheduled, waiting; "unknown" when the job is gone."""
    job = _job(redis, run_id)
    status = _status(job) if job is not None else None
    return WORDS.get(status, status.value) if status is not None else "unknown"


def run_state(state: SyncState, run_id: str) -> str:
    """How the run holding a district stands, in plain words: its report's status once it started
    (``running``), else its RQ job's (``queued``; ``unknown`` for a run that has neither)."""
    report = state.report(run_id)
    return report.status if report is not None else job_state(state.redis, run_id)


def _job(redis: Redis, run_id: str) -> Job | None:
    try:
        return queues.fetch(sync_job_id(run_id), redis)
    except NoSuchJobError:
        return None


def _status(job: Job) -> JobStatus | None:
    try:
        return job.get_status(refresh=True)
    except InvalidJobOperation:  # the job expired while we looked
        return None


def _in_queue(redis: Redis, job: Job) -> bool:
    return redis.lpos(queues.queue(job.origin, redis).key, job.id) is not None


def _left_queue(job: Job) -> datetime | None:
    """When a worker took the job: RQ's execution record of it, or its start."""
    times = [execution.created_at for execution in job.get_executions()]
    if job.started_at is not None:
        times.append(job.started_at)
    return max(times) if times else None


def _age(moment: datetime) -> float:
    when = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - when).total_seconds()
