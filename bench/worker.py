"""The measured worker: a real RQ ``SimpleWorker`` in burst mode, in a process of its own.

The parent enqueues ``measured_sync`` (or a scale-out job), starts ``python -m bench.worker QUEUE
REDIS_URL [MAX_JOBS]`` with the method's ``KCC_*`` environment and reaps it with ``os.wait4`` (its
CPU seconds too). The worker's peak RSS is its own ``VmHWM``, which it leaves in Redis as it
exits: ``ru_maxrss`` from ``wait4`` is not used for the headline, because Linux folds the parent's
high-water mark at fork time into the child's at ``exec`` (a trivial run then "peaks" at the size
of the benchmark process holding the sandbox).

The job builds Settings from the environment as ``worker.py`` does, times the sync itself (not the
interpreter start), and counts Clever's requests on its own ``CleverClient``.
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
from rq import SimpleWorker

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs, queues
from plugin.sync.run_options import RunOptions

RSS_KEY = "bench:vmhwm:"


def measured_sync(district_id: str, run_id: str, *, full: bool) -> dict[str, Any]:
    """``plugin.runs.jobs.sync_job`` with a counted Clever client; the report plus the measurements."""
    settings = Settings.from_env()
    client = CleverClient(settings.clever)
    started = time.perf_counter()
    report = jobs.sync_job(
        district_id, run_id, settings=settings, source=client, run=RunOptions(full=full, trigger="bench")
    )
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
    """What one worker process did: wall time of the whole process, its peak RSS (VmHWM), and the
    CPU seconds it spent (user + system, from ``wait4``: a ``SimpleWorker`` runs jobs in itself)."""

    seconds: float
    peak_rss_kb: int
    returncode: int
    wait4_maxrss_kb: int
    cpu_seconds: float = 0.0


def start_workers(
    queue: str, redis_url: str, env: dict[str, str], count: int = 1, *, max_jobs: int | None = None
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` burst workers on ``queue`` with ``env`` (the method's Settings); each stops
    after ``max_jobs`` jobs when given."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KCC_")} | env
    limit = [] if max_jobs is None else [str(max_jobs)]
    return [
        subprocess.Popen(
            [sys.executable, "-m", "bench.worker", queue, redis_url, *limit],
            env=child_env,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        for _ in range(count)
    ]


def wait_workers(processes: list[subprocess.Popen[bytes]], started: float, redis_url: str) -> list[WorkerRun]:
    """Reap each worker; its VmHWM from Redis (and ``wait4``'s ``ru_maxrss``, kept for comparison)."""
    runs = []
    connection = Redis.from_url(redis_url)
    for process in processes:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        hwm = connection.get(f"{RSS_KEY}{process.pid}")
        runs.append(
            WorkerRun(
                time.perf_counter() - started,
                int(hwm or 0),
                process.returncode,
                usage.ru_maxrss,
                usage.ru_utime + usage.ru_stime,
            )
        )
    connection.close()
    return runs


def main(argv: list[str]) -> int:
    queue_name, redis_url, *limit = argv
    connection = Redis.from_url(redis_url)
    worker = queues.worker([queues.queue(queue_name, connection)], connection, SimpleWorker)
    worker.work(burst=True, logging_level="WARNING", max_jobs=int(limit[0]) if limit else None)
    connection.set(f"{RSS_KEY}{os.getpid()}", peak_rss_kb(), ex=3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
