"""No dead run keeps a district locked: a job killed before it held its lease frees the district
within a minute, for the page and the CLI alike (``plugin.runs.takeover``).

A queued run holds its district with a six-hour lock until its job claims a short lease. These
tests kill the job in between, at the two points a real worker passes: right after it took the
job off the queue (the worker is stopped while it waits in BLMOVE, Redis hands it the job, then
it is killed: the job is in no queue and never started), and right after the work horse marked
it started (what RQ's own worker writes, then nothing: a worker that died there). Then the page's
Sync (its JSON API) or ``keycloak-clever sync`` is tried every second, as an admin would, until a
new run starts: within 60 s. Real Keycloak, Redis (RQ), the sandbox over HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from redis import Redis
from rq import Queue, SimpleWorker

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.runs import jobs, queues
from plugin.sync.run_options import RunOptions
from tests.fault_world import BIN, FaultWorld, fault_world_of, kill_worker, wait
from tests.integration.test_admin_auth import make_user, password_token

pytestmark = [pytest.mark.integration, pytest.mark.faults]
WITHIN = 60.0  # seconds: the district is free again within a minute of the death


@pytest.fixture
def lock_world(settings: Settings, keycloak_admin: KeycloakAdmin) -> Iterator[FaultWorld]:
    """A 20-student sandbox as Clever: the runs here only have to start (and finish quickly)."""
    with fault_world_of(settings, keycloak_admin, size=20, bulk=False) as world:
        yield world


def _waiting_for_a_job(redis: Redis) -> bool:
    """A worker is blocked in BLMOVE on the queue (Redis hands it the next job there)."""
    return any(c.get("cmd") == "blmove" and "b" in c.get("flags", "") for c in redis.client_list())


def _off_the_queue(queue: Queue, job_id: str) -> bool:
    return queue.connection.lpos(queue.key, job_id) is None


def _killed_after_dequeue(world: FaultWorld) -> str:
    """A run the page queued, whose worker took its job off the queue and died before running it."""
    worker = world.worker()
    queue = jobs.queue_for(world.settings)
    try:
        wait("the worker waits for a job", lambda: _waiting_for_a_job(queue.connection), every=0.2)
        os.kill(worker.pid, signal.SIGSTOP)
        dead, queued = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
        assert queued
        wait("the worker takes the job", lambda: _off_the_queue(queue, f"sync-{dead}"))
    finally:
        kill_worker(worker)
    return dead


def _killed_after_start(world: FaultWorld) -> str:
    """A run the page queued, whose job RQ's worker started (the horse's first writes) and that
    died before the job claimed its lease."""
    dead, queued = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    assert queued
    queue = jobs.queue_for(world.settings)
    worker = queues.worker([queue], queue.connection, SimpleWorker)
    taken = Queue.dequeue_any([queue], None, connection=queue.connection, serializer=queues.SERIALIZER)
    assert taken is not None and taken[0].id == f"sync-{dead}"
    worker.prepare_execution(taken[0])  # the worker, before it forks its work horse
    worker.prepare_job_execution(taken[0], remove_from_intermediate_queue=True)  # the horse: started
    assert taken[0].get_status(refresh=True) == "started"
    return dead


def _first_success(what: str, attempt: Callable[[], str | None]) -> tuple[str, float]:
    """Try ``attempt`` every second until it answers; its answer, and when (seconds from now) the
    attempt that was not refused began."""
    started = time.monotonic()
    while True:
        began = time.monotonic() - started
        assert began < WITHIN, f"{what}: still refused after {WITHIN:.0f} s"
        if (found := attempt()) is not None:
            return found, began
        time.sleep(1.0)


def _page(world: FaultWorld, keycloak_admin: KeycloakAdmin) -> tuple[FlaskClient, dict[str, str]]:
    """The page's JSON API, and a realm admin's bearer token for it."""
    make_user(keycloak_admin, "lock-admin", client_roles=("realm-admin",))
    headers = {"Authorization": f"Bearer {password_token(world.settings, 'lock-admin')}"}
    return create_app(world.settings).test_client(), headers


def _page_sync(client: FlaskClient, headers: dict[str, str]) -> Callable[[], str | None]:
    """The page's Sync through its JSON API."""

    def attempt() -> str | None:
        answer = client.post(f"{URL_PREFIX}/api/sync", headers=headers, json={})
        body = answer.json or {}
        return str(body["run_id"]) if answer.status_code == 202 and body.get("queued") else None

    return attempt


@pytest.mark.parametrize("killed", [_killed_after_dequeue, _killed_after_start], ids=["dequeued", "started"])
def test_the_page_starts_a_new_run_within_a_minute_of_a_job_killed_before_its_lease(
    lock_world: FaultWorld, keycloak_admin: KeycloakAdmin, killed: Callable[[FaultWorld], str]
) -> None:
    world = lock_world
    sync = _page_sync(*_page(world, keycloak_admin))
    dead = killed(world)
    assert world.state.running(world.district_id) == dead and world.state.lock_ttl(world.district_id) > 3600

    run_id, took = _first_success("the page's Sync", sync)

    print(f"the page's Sync started run {run_id} {took:.1f} s after the death")
    world.burst()
    report = world.state.report(run_id)
    assert report is not None and report.status == "ok", report
    assert world.state.report(dead) is None  # the dead run never started: nothing of it to show


def test_the_cli_starts_a_new_run_within_a_minute_of_a_job_killed_before_its_lease(
    lock_world: FaultWorld,
) -> None:
    """The CLI takes the district through the same rule as the page (``takeover.acquire``): the
    kill after dequeue here (the page's test has both kill points; each costs a run)."""
    world = lock_world
    dead = _killed_after_dequeue(world)
    refusals: list[str] = []

    def attempt() -> str | None:
        proc = world.cli("--full", "--json")
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 1 and "already running" in err:
            refusals.append(err.strip())
            return None
        assert proc.returncode == 0, err[-3000:]
        return out

    out, took = _first_success("keycloak-clever sync", attempt)

    print(f"keycloak-clever sync ran {took:.1f} s after the death ({len(refusals)} refusals)")
    assert all(f"run {dead}" in refusal for refusal in refusals)
    assert '"status": "ok"' in out
    assert world.state.running(world.district_id) is None


def test_a_job_that_failed_before_its_lease_is_taken_over_at_once_and_its_state_is_in_words(
    lock_world: FaultWorld, keycloak_admin: KeycloakAdmin
) -> None:
    world = lock_world
    client, headers = _page(world, keycloak_admin)
    dead, queued = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    assert queued
    queue = jobs.queue_for(world.settings)
    job = queues.fetch(f"sync-{dead}", queue.connection)
    job.func_name = "tests.jobs.fail_before_the_lease"
    job.save()
    assert client.get(f"{URL_PREFIX}/api/runs/{dead}/progress", headers=headers).json["job"] == "queued"
    queues.worker([queue], queue.connection, SimpleWorker).work(burst=True)
    assert world.state.running(world.district_id) == dead  # the failed job left its queued lock

    progress = client.get(f"{URL_PREFIX}/api/runs/{dead}/progress", headers=headers).json
    assert {k: progress[k] for k in ("job", "status", "finished")} == {
        "job": "failed",
        "status": "failed",
        "finished": True,
    }
    status = subprocess.run(
        [str(BIN / "keycloak-clever"), "status"], env=world.env, capture_output=True, text=True, timeout=120
    )
    assert f"running: {dead} (failed)" in status.stdout, status.stdout + status.stderr

    run_id, took = _first_success("the page's Sync", _page_sync(client, headers))
    assert took < 5  # at once
    progress = client.get(f"{URL_PREFIX}/api/runs/{run_id}/progress", headers=headers).json
    assert (progress["job"], progress["status"], progress["finished"]) == ("queued", "queued", False)
    world.burst()
    progress = client.get(f"{URL_PREFIX}/api/runs/{run_id}/progress", headers=headers).json
    assert (progress["job"], progress["status"], progress["finished"]) == ("finished", "ok", True)
