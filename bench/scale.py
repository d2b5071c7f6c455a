"""The scale-out run: ``plugin.runs.scaleout`` jobs on ``workers`` RQ burst workers, each its own process.

The first worker starts with only the prepare job queued; the others start once it has queued the
shards (burst workers quit on an empty queue; production workers stay up and need no such care).
Each worker applies the same number of shards (``SHARDS_PER_WORKER``: it stops after its share, the
first after the prepare job and its share), so a worker pointed at a Keycloak node of its own
(``--nodes 2``: worker *i* on node *i* mod 2, ``KEYCLOAK_URL_2`` of ``services.env``) sends that
node its share of the writes; a last burst worker runs the finish job. Time is measured from the
prepare job's start to the last shard's end, from inside the jobs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis

from bench.env import Place, Services
from bench.worker import WorkerRun, start_workers, wait_workers
from plugin.runs import queues
from plugin.runs.jobs import QUEUE_NAME
from plugin.runs.scaleout import prepare_job
from plugin.runs.state import SyncState

SHARDS_PER_WORKER = 2
JOB_TIMEOUT = 6 * 3600


@dataclass(frozen=True)
class ShardedRun:
    """What a sharded run returned: the prepare job's result, each shard job's, each worker process."""

    prepared: dict[str, Any]
    shards: list[dict[str, Any]]
    workers: list[WorkerRun]


def sharded_run(
    redis_url: str, district_id: str, envs: Sequence[dict[str, str]], *, per_worker: int = SHARDS_PER_WORKER
) -> ShardedRun:
    """One sharded full sync of ``district_id`` on ``len(envs)`` burst workers, worker *i* built
    from ``envs[i]`` (its ``KCC_*`` Settings: its own Keycloak URL, say), each applying
    ``per_worker`` shards; then the finish job. Raises when a job did not finish."""
    connection = Redis.from_url(redis_url)
    queue = queues.queue(QUEUE_NAME, connection)
    run_id = uuid.uuid4().hex[:12]
    if SyncState(connection).acquire(district_id, run_id) is not None:
        raise RuntimeError("the district lock is held")
    shards = len(envs) * per_worker
    prepare = queue.enqueue(
        prepare_job, district_id, run_id, shards, job_timeout=JOB_TIMEOUT, result_ttl=3600
    )
    started = time.perf_counter()
    processes = start_workers(QUEUE_NAME, redis_url, envs[0], max_jobs=1 + per_worker)
    while prepare.get_status(refresh=True) not in ("finished", "failed"):
        if processes[0].poll() is not None:
            break
        time.sleep(0.1)
    for env in envs[1:]:
        processes += start_workers(QUEUE_NAME, redis_url, env, max_jobs=per_worker)
    runs = wait_workers(processes, started, redis_url)
    # The finish job waits for every shard: queued by the last one, after its worker's share.
    runs += wait_workers(start_workers(QUEUE_NAME, redis_url, envs[0]), started, redis_url)
    prepare.refresh()
    prepared = prepare.return_value() or {}
    if prepared.get("status") != "ok":
        raise RuntimeError(f"scale-out prepare failed: {prepare.latest_result()}")
    shard_jobs = [queues.fetch(job_id, connection) for job_id in prepared["shard_jobs"]]
    for job in shard_jobs:
        if not job.is_finished:
            raise RuntimeError(f"shard job {job.id} is {job.get_status()}: {job.latest_result()}")
    results = [job.return_value() or {} for job in shard_jobs]
    if len(results) != shards or any("finished" not in r for r in results):
        raise RuntimeError("a shard job did not finish")
    connection.close()
    return ShardedRun(prepared, results, runs)


def node_envs(services: Services, place: Place, workers: int, nodes: int) -> list[dict[str, str]]:
    """Each worker's environment: the place's, with worker *i* on Keycloak node *i* mod ``nodes``."""
    urls = services.keycloak_nodes()
    if nodes > len(urls):
        raise RuntimeError(f"{nodes} Keycloak nodes asked for, services.env names {len(urls)}")
    env = place.env(services.env)
    return [
        env | {"KCC_KEYCLOAK_URL": urls[i % nodes][0], "KCC_KEYCLOAK_HEALTH_URL": urls[i % nodes][1]}
        for i in range(workers)
    ]


def run_scaleout(
    services: Services, place: Place, workers: int, people: int, *, nodes: int = 1
) -> dict[str, Any]:
    """One sharded full sync of a fresh realm; time, calls, writes, each worker's peak RSS and CPU."""
    run = sharded_run(place.redis_url, place.district_id, node_envs(services, place, workers, nodes))
    prepared, shard_results = run.prepared, run.shards
    seconds = max(r["finished"] for r in shard_results) - prepared["started"]
    calls: dict[str, int] = {}
    for result in [prepared, *shard_results]:
        for method, count in result["calls"].items():
            calls[method] = calls.get(method, 0) + count
    errors = [e for r in [prepared, *shard_results] for e in r["errors"]]
    return {
        "method": "scaleout",
        "workers": workers,
        "keycloak_nodes": nodes,
        "shards": len(shard_results),
        "seconds": round(seconds, 3),
        "prepare_seconds": round(prepared["finished"] - prepared["started"], 3),
        "shard_seconds": [round(r["finished"] - r["started"], 3) for r in shard_results],
        "shard_people": [r["people"] for r in shard_results],
        "shard_keycloak": [r.get("keycloak_url") for r in shard_results],
        "people": people,
        "people_per_second": round(people / seconds, 1) if seconds else None,
        "keycloak_http_calls": sum(calls.values()),
        "keycloak_calls": calls,
        "keycloak_writes": prepared["writes"]["keycloak"]
        + sum(r["writes"]["keycloak"] for r in shard_results),
        "ldap_writes": prepared["writes"]["ldap"],
        "clever_requests": prepared["clever_requests"] + sum(r["clever_requests"] for r in shard_results),
        "worker_peak_rss_kb": [w.peak_rss_kb for w in run.workers],
        "worker_cpu_seconds": [round(w.cpu_seconds, 2) for w in run.workers],
        "error_count": len(errors),
        "errors": errors[:5],
    }
