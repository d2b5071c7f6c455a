"""Our sync, measured: each run is an RQ job executed by a burst worker in a process of its own.

(a) the full sync of a fresh realm, (d) the no-op resync (a full run with nothing changed, and the
Events check with the saved cursor), (e) the incremental run after 1% of people and memberships
changed in the sandbox (Events, then a run from the saved cursor).
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis

from bench.env import Place, Services
from bench.worker import WorkerRun, start_workers, wait_workers
from plugin.runs import queues
from sandbox.state import SandboxState

JOB_TIMEOUT = 6 * 3600


def run_job(
    services: Services, place: Place, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """Enqueue one job, run it in one burst worker process; its result plus the worker's RSS."""
    connection = Redis.from_url(place.redis_url)
    queue = queues.queue(f"bench-{uuid.uuid4().hex[:8]}", connection)
    job = queue.enqueue(func, *args, job_timeout=JOB_TIMEOUT, result_ttl=3600, **kwargs)
    started = time.perf_counter()
    processes = start_workers(queue.name, place.redis_url, place.env(services.env))
    (worker,) = wait_workers(processes, started, place.redis_url)
    job.refresh()
    if worker.returncode != 0 or not job.is_finished:
        raise RuntimeError(f"the worker failed ({worker.returncode}): {job.latest_result()}")
    result = dict(job.return_value() or {})
    result["worker"] = _worker(worker)
    connection.close()
    return result


def _worker(run: WorkerRun) -> dict[str, Any]:
    return {
        "process_seconds": round(run.seconds, 3),
        "peak_rss_kb": run.peak_rss_kb,
        "wait4_maxrss_kb": run.wait4_maxrss_kb,
    }


def summary(method: str, result: dict[str, Any], people: int) -> dict[str, Any]:
    """The fields every method reports, from a ``measured_sync`` result."""
    report = result["report"]
    seconds = float(result["seconds"])
    calls = report.get("calls", {})
    return {
        "method": method,
        "seconds": round(seconds, 3),
        "people": people,
        "people_per_second": round(people / seconds, 1) if seconds else None,
        "status": report.get("status"),
        "mode": report.get("mode"),
        "keycloak_http_calls": sum(calls.values()),
        "keycloak_calls": calls,
        "keycloak_writes": report.get("writes", {}).get("keycloak", 0),
        "ldap_writes": report.get("writes", {}).get("ldap", 0),
        "clever_requests": result.get("clever_requests"),
        "worker_peak_rss_kb": result["worker"]["peak_rss_kb"],
        "wait4_maxrss_kb": result["worker"]["wait4_maxrss_kb"],
        "worker_process_seconds": result["worker"]["process_seconds"],
        "errors": report.get("errors", [])[:5],
        "error_count": len(report.get("errors", [])),
        "kinds": report.get("kinds", {}),
    }


def mutate_one_percent(state: SandboxState, people: int, seed: int) -> dict[str, int]:
    """Change 1% of people through the sandbox (Events): renames, section moves, departures."""
    rng = random.Random(seed)
    wanted = max(1, math.ceil(people / 100))
    students = list(state.store.ids("role", "student", state.district_id))
    chosen = rng.sample(students, min(len(students), wanted))
    sections = list(state.store.ids("all", "sections", state.district_id))
    counts = {"renamed": 0, "moved": 0, "departed": 0}
    for n, student in enumerate(chosen):
        user = state.store.get("users", student) or {}
        if n % 5 == 4:
            state.delete("users", student)
            counts["departed"] += 1
        elif n % 2 == 0:
            name = dict(user.get("name") or {})
            state.update("users", student, {"name": {"first": f"{name.get('first', '')}x".strip()}})
            counts["renamed"] += 1
        else:
            mine = list(state.store.ids("user_sections", student))
            school = (user.get("roles") or {}).get("student", {}).get("school")
            target = _other_section(state, sections, mine, school, rng)
            if mine and target:
                state.move_student(student, mine[0], target)
                counts["moved"] += 1
    return counts


def _other_section(
    state: SandboxState, sections: list[str], mine: list[str], school: str | None, rng: random.Random
) -> str | None:
    for _ in range(50):
        candidate = rng.choice(sections)
        section = state.store.get("sections", candidate) or {}
        if candidate not in mine and section.get("school") == school:
            return candidate
    return None
