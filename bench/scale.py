"""The scale-out run: ``plugin.runs.scaleout`` jobs on ``workers`` RQ burst workers, each its own process.

The first worker starts with only the prepare job queued; the others start once it has queued the
shards (burst workers quit on an empty queue; production workers stay up and need no such care).
Time is measured from the prepare job's start to the last shard's end, from inside the jobs.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from redis import Redis

from bench.env import Place, Services
from bench.worker import start_workers, wait_workers
from plugin.runs import queues
from plugin.runs.jobs import QUEUE_NAME
from plugin.runs.scaleout import prepare_job
from plugin.runs.state import SyncState

SHARDS_PER_WORKER = 2


def run_scaleout(services: Services, place: Place, workers: int, people: int) -> dict[str, Any]:
    """One sharded full sync of a fresh realm; time, calls, writes, each worker's peak RSS."""
    connection = Redis.from_url(place.redis_url)
    queue = queues.queue(QUEUE_NAME, connection)
    run_id = uuid.uuid4().hex[:12]
    if SyncState(connection).acquire(place.district_id, run_id) is not None:
        raise RuntimeError("the district lock is held")
    shards = workers * SHARDS_PER_WORKER
    prepare = queue.enqueue(
        prepare_job, place.district_id, run_id, shards, job_timeout=6 * 3600, result_ttl=3600
    )
    env = place.env(services.env)
    started = time.perf_counter()
    processes = start_workers(QUEUE_NAME, place.redis_url, env)
    while prepare.get_status(refresh=True) not in ("finished", "failed"):
        time.sleep(0.1)
    processes += start_workers(QUEUE_NAME, place.redis_url, env, workers - 1)
    runs = wait_workers(processes, started, place.redis_url)
    prepare.refresh()
    prepared = prepare.return_value() or {}
    if prepared.get("status") != "ok":
        raise RuntimeError(f"scale-out prepare failed: {prepare.latest_result()}")
    shard_jobs = [queues.fetch(job_id, connection) for job_id in prepared["shard_jobs"]]
    for job in shard_jobs:
        if not job.is_finished:
            raise RuntimeError(f"shard job {job.id} is {job.get_status()}: {job.latest_result()}")
    shard_results = [
        queues.fetch(job_id, connection).return_value() or {} for job_id in prepared["shard_jobs"]
    ]
    if len(shard_results) != shards or any("finished" not in r for r in shard_results):
        raise RuntimeError("a shard job did not finish")
    seconds = max(r["finished"] for r in shard_results) - prepared["started"]
    calls: dict[str, int] = {}
    for result in [prepared, *shard_results]:
        for method, count in result["calls"].items():
            calls[method] = calls.get(method, 0) + count
    errors = [e for r in [prepared, *shard_results] for e in r["errors"]]
    connection.close()
    return {
        "method": "scaleout",
        "workers": workers,
        "shards": shards,
        "seconds": round(seconds, 3),
        "prepare_seconds": round(prepared["finished"] - prepared["started"], 3),
        "shard_seconds": [round(r["finished"] - r["started"], 3) for r in shard_results],
        "shard_people": [r["people"] for r in shard_results],
        "people": people,
        "people_per_second": round(people / seconds, 1) if seconds else None,
        "keycloak_http_calls": sum(calls.values()),
        "keycloak_calls": calls,
        "keycloak_writes": prepared["writes"]["keycloak"]
        + sum(r["writes"]["keycloak"] for r in shard_results),
        "ldap_writes": prepared["writes"]["ldap"],
        "clever_requests": prepared["clever_requests"] + sum(r["clever_requests"] for r in shard_results),
        "worker_peak_rss_kb": [run.peak_rss_kb for run in runs],
        "error_count": len(errors),
        "errors": errors[:5],
    }
