"""The measured worker: a real RQ ``SimpleWorker`` in burst mode, in a process of its own.

The parent enqueues ``measured_sync`` (or a scale-out job), starts ``python -m bench.worker QUEUE``
with the method's ``KCC_*`` environment, and reads the child's peak RSS from ``os.wait4`` when it
exits. The job builds Settings from the environment as ``worker.py`` does, times the sync itself
(not the interpreter start), and counts Clever's requests on its own ``CleverClient``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from connectors.clever import CleverClient
from plugin import jobs
from plugin.settings import Settings


def measured_sync(district_id: str, run_id: str, *, full: bool) -> dict[str, Any]:
    """``plugin.jobs.sync_job`` with a counted Clever client; the report plus the measurements."""
    settings = Settings.from_env()
    client = CleverClient(settings.clever)
    started = time.perf_counter()
    report = jobs.sync_job(district_id, run_id, full=full, trigger="bench", settings=settings, source=client)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "report": report,
        "clever_requests": client.requests_made,
        "job_peak_rss_kb": peak_rss_kb(),
    }


def peak_rss_kb() -> int:
    """This process's peak resident set (``VmHWM``; ``ru_maxrss`` where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass(frozen=True)
class WorkerRun:
    """What one worker process did: wall time of the whole process and its peak RSS."""

    seconds: float
    peak_rss_kb: int
    returncode: int


def start_workers(
    queue: str, redis_url: str, env: dict[str, str], count: int = 1
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` burst workers on ``queue`` with ``env`` (the method's Settings)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KCC_")} | env
    return [
        subprocess.Popen(
            [sys.executable, "-m", "bench.worker", queue, redis_url],
            env=child_env,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        for _ in range(count)
    ]


def wait_workers(processes: list[subprocess.Popen[bytes]], started: float) -> list[WorkerRun]:
    """Reap each worker with ``wait4``: its own peak RSS (``ru_maxrss``, KB on Linux)."""
    runs = []
    for process in processes:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        runs.append(WorkerRun(time.perf_counter() - started, usage.ru_maxrss, process.returncode))
    return runs


def main(argv: list[str]) -> int:
    queue_name, redis_url = argv
    connection = Redis.from_url(redis_url)
    worker = SimpleWorker([Queue(queue_name, connection=connection)], connection=connection)
    worker.work(burst=True, logging_level="WARNING")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
