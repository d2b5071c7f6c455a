"""A Redis restart loses nothing and stops nothing (real Redis, a real worker process).

Redis is stopped as systemd and ``scripts/services down`` stop it (SIGTERM: it writes its files and
exits), then started again by ``scripts/services up``: it comes back from its append-only file.
Writes made inside MULTI/EXEC (every ``SyncState.save``, every RQ enqueue and schedule) must come
back too: Redis 7.0 replays EXEC as its default user, and with that user off and without rights it
refused every one (redis/redis#14541). ``services/redis.conf.in`` gives the default user the
rights while leaving it off (no client can be it); the checks here are what an admin would look
at after the restart: the run history, the queued run, the scheduled weekly run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError, ResponseError
from rq import SimpleWorker

from plugin.config.settings import Settings
from plugin.runs import jobs, queues
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from tests.conftest import ROOT, worker_environment

pytestmark = [pytest.mark.integration, pytest.mark.faults]
LIMIT = 120.0  # seconds: generous on a loaded 2-core machine, still bounded


def _wait(what: str, done: Callable[[], bool], limit: float = LIMIT) -> float:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < limit, f"{what}: not within {limit:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - started


def restart_redis(down_for: float = 0.0) -> None:
    """SIGTERM Redis (it writes its files and exits, as on ``systemctl restart``), start it again
    ``down_for`` seconds later."""
    pid = int((ROOT / "var" / "redis" / "redis.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)
    _wait("redis stops", lambda: not os.path.exists(f"/proc/{pid}"))
    time.sleep(down_for)
    up = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, check=False, timeout=600
    )
    assert up.returncode == 0, up.stderr[-2000:]


def _report(district: str, run_id: str, status: str) -> SyncReport:
    report = SyncReport(run_id=run_id, district_id=district, trigger="manual")
    report.kinds["students"]["created"] = 7
    return report.finish(status)


def test_a_redis_restart_keeps_the_history_the_queued_run_and_the_weekly_run(settings: Settings) -> None:
    state = jobs.state_for(settings)
    for n, status in enumerate(("ok", "partial", "held")):
        state.save(_report("d1", f"run{n}", status))  # one MULTI/EXEC each
    state.hold(_report("d1", "run2", "held"))
    queued_run, queued = jobs.trigger_sync(settings, "d2", run=RunOptions(full=True))
    assert queued
    queue = jobs.queue_for(settings)
    weekly = jobs.schedule_weekly(queue, "d1", "UTC")
    weekly_at = queue.scheduled_job_registry.get_scheduled_time(weekly.id)
    other = queues.queue("test-markers", queue.connection)  # a finished job, and its result
    done = other.enqueue("tests.jobs.record_marker", settings.redis_url, "before-restart")
    queues.worker([other], queue.connection, SimpleWorker).work(burst=True)
    assert queues.fetch(done.id, queue.connection).get_status(refresh=True) == "finished"

    restart_redis()

    state = jobs.state_for(settings)
    history = [(r.run_id, r.status, r.kinds["students"]["created"]) for r in state.history("d1")]
    assert history == [("run2", "held", 7), ("run1", "partial", 7), ("run0", "ok", 7)]
    assert state.held("d1") is not None
    assert state.running("d2") == queued_run  # the queued run still holds its district ...
    queue = jobs.queue_for(settings)
    assert queue.get_job_ids() == [f"sync-{queued_run}"]  # ... and is still queued for a worker
    job = queues.fetch(f"sync-{queued_run}", queue.connection)
    assert job.get_status(refresh=True) == "queued" and job.args == ["d2", queued_run]
    assert jobs.weekly_job_ids(queue, "d1") == [weekly.id]  # the weekly run is still scheduled
    assert queue.scheduled_job_registry.get_scheduled_time(weekly.id) == weekly_at
    finished = queues.fetch(done.id, queue.connection)
    assert finished.get_status(refresh=True) == "finished" and finished.return_value() is not None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port}"))


def test_after_a_restart_redis_still_refuses_a_client_without_the_password(settings: Settings) -> None:
    restart_redis()
    bare = Redis.from_url(_without_password(settings.redis_url))
    with pytest.raises((AuthenticationError, ResponseError)):
        bare.get("anything")
    for user, password in (("default", ""), ("default", "x"), (None, ""), (None, "x")):
        with pytest.raises((AuthenticationError, ResponseError)):
            bare.execute_command("AUTH", *([user] if user else []), password)


@pytest.fixture
def worker(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """``worker.py`` (RQ worker and scheduler) as its own process, stopped (SIGTERM) afterwards."""
    env = worker_environment(settings, KCC_TIMEZONE="UTC")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_a_worker_keeps_working_and_scheduling_across_a_redis_restart(
    settings: Settings, worker: subprocess.Popen[str]
) -> None:
    connection = Redis.from_url(settings.redis_url)
    queue = jobs.queue_for(settings)
    queue.enqueue("tests.jobs.record_marker", settings.redis_url, "first")
    _wait("the worker runs a job", lambda: connection.get("smoke:first") is not None)
    # A job that runs while Redis is away for longer than the worker's heartbeat interval.
    slow = queue.enqueue("tests.jobs.sleep_then_mark", settings.redis_url, "slow", 20)
    _wait("the slow job starts", lambda: slow.get_status(refresh=True) == "started")

    restart_redis(down_for=12)
    assert worker.poll() is None, worker.stderr.read()[-3000:] if worker.stderr else ""

    connection = Redis.from_url(settings.redis_url)
    _wait("the slow job ends", lambda: connection.get("smoke:slow") is not None)
    queue = jobs.queue_for(settings)
    queue.enqueue("tests.jobs.record_marker", settings.redis_url, "after")
    _wait("the worker runs a job after the restart", lambda: connection.get("smoke:after") is not None)
    # The scheduler (what enqueues the weekly run) came back too: a job due in a few seconds runs.
    queue.enqueue_at(
        datetime.now(UTC) + timedelta(seconds=3), "tests.jobs.record_marker", settings.redis_url, "due"
    )
    _wait("the scheduler enqueues a due job", lambda: connection.get("smoke:due") is not None)
    assert worker.poll() is None
    assert queues.fetch(slow.id, connection).get_status(refresh=True) == "finished"
