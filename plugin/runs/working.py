"""The worker process: RQ's forking worker and its scheduler, kept working across a Redis restart.

RQ's ``Worker.work`` retries a lost connection only while it waits for a job. Anywhere else (the
heartbeat it sends while a job runs, its maintenance, its shutdown bookkeeping) a Redis error ends
the loop and the process, and RQ's scheduler process (what enqueues the weekly run) dies at the
first error and is looked at again only every ten minutes. So here:

* ``SyncWorker`` lets a job run on when a heartbeat cannot reach Redis (the job's own lease renews
  itself, ``plugin.runs.state``), and starts its scheduler again at the first heartbeat that
  reaches Redis after the scheduler died;
* ``serve`` starts a new worker when the loop ended for any reason but a stop request (SIGTERM,
  SIGINT) or ``--burst``, once Redis answers again, waiting longer each time (``PAUSES``).

Stopping is RQ's: SIGTERM finishes the job at hand (warm shutdown), a second one stops at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import StopRequested

from plugin.runs import queues

log = logging.getLogger(__name__)
PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between two tries to reach Redis (then the last)
RAN_WELL = 60.0  # seconds: a worker that ran this long starts again after the shortest pause
JOB_MONITORING = 10  # seconds between two heartbeats of a running job (RQ's default: 30)


class SyncWorker(Worker):
    """RQ's ``Worker`` that knows whether it was asked to stop, and outlives a Redis restart."""

    asked_to_stop = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.asked_to_stop = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline)
        if pipeline is None:  # Redis answered just now
            self._revive_scheduler()

    def maintain_heartbeats(self, job: Any, execution: Any) -> None:
        """While a job runs: a heartbeat Redis does not take is tried again at the next one."""
        try:
            super().maintain_heartbeats(job, execution)
        except RedisError as exc:
            log.warning("worker %s: Redis is unreachable (%s); job %s runs on", self.name, exc, job.id)

    def _revive_scheduler(self) -> None:
        scheduler = self.scheduler
        if scheduler is None or self.is_horse or self.asked_to_stop:
            return
        process = scheduler._process
        if process is not None and not process.is_alive():
            log.warning("worker %s: its scheduler had stopped (Redis went away): started again", self.name)
            scheduler.acquire_locks(auto_start=True)


def serve(
    connection: Redis,
    queue_names: list[str],
    *,
    burst: bool = False,
    on_start: Callable[[], object] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Work the queues until asked to stop (or, ``burst``, until they are empty)."""
    pauses = 0  # since the last worker that ran well
    while True:
        worker: SyncWorker | None = None
        started = time.monotonic()
        try:
            on_start()  # e.g. ``plugin.runs.jobs.ensure_weekly``
            worker = _worker(connection, queue_names)
            worker.work(with_scheduler=True, burst=burst)
        except RedisError as exc:
            log.warning("worker: Redis is unreachable (%s: %s)", type(exc).__name__, exc)
        if burst or (worker is not None and worker.asked_to_stop):
            return
        pauses = 0 if time.monotonic() - started > RAN_WELL else pauses
        pause = PAUSES[min(pauses, len(PAUSES) - 1)]
        pauses += 1
        log.warning("worker: the work loop ended; starting again in %.0f s", pause)
        try:
            sleep(pause)
        except StopRequested:  # SIGTERM while waiting (the last worker's handler is still set)
            return


def _worker(connection: Redis, queue_names: list[str]) -> SyncWorker:
    worker = queues.worker([_queue(name, connection) for name in queue_names], connection, SyncWorker)
    assert isinstance(worker, SyncWorker)
    worker.job_monitoring_interval = JOB_MONITORING
    return worker


def _queue(name: str, connection: Redis) -> Queue:
    return queues.queue(name, connection)
