"""Deprovisioning with the brake, approve/discard, the per-district lock, a job through RQ."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin
from redis import Redis
from rq import SimpleWorker

from model.records import Role
from plugin.config.settings import Settings
from plugin.runs import jobs, queues
from plugin.runs.state import SyncState
from plugin.sync.run_options import RunOptions
from tests.sync_roster import MemorySource, make_district_roster

pytestmark = pytest.mark.integration


def test_departures_are_disabled_and_a_big_removal_is_held_for_review(
    settings: Settings, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    source = MemorySource(make_district_roster(40))
    state = SyncState.from_url(redis_url)
    first = jobs.run_locked(settings, state, "d1", "run1", source=source)
    assert first.status == "ok"

    students = [u for u in source.roster_.users_ if u.has(Role.STUDENT)]
    leaver = students[0]
    source.roster_.users_.remove(leaver)  # one of 40: under the 10% brake
    # The in-memory source has no events feed: changes made to it need full runs.
    second = jobs.run_locked(settings, state, "d1", "run2", source=source, run=RunOptions(full=True))
    assert second.status == "ok", second.summary()
    assert second.kinds["students"]["disabled"] == 1
    account = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": leaver.clever_id})[0]
    full = keycloak_admin.get_user(account["id"])
    assert full["enabled"] is False and full["attributes"]["clever_removed_at"]
    assert keycloak_admin.get_user_groups(account["id"]) == []

    for gone in students[1:8]:  # 7 of 39 remaining students leave: over 10%
        source.roster_.users_.remove(gone)
    held = jobs.run_locked(settings, state, "d1", "run3", source=source, run=RunOptions(full=True))
    assert held.status == "held" and held.brake["held"]
    assert held.preview["keycloak"]["disable_users"] == 7
    assert state.held("d1") is not None and state.held("d1").run_id == "run3"  # type: ignore[union-attr]
    still = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": students[1].clever_id})[0]
    assert still["enabled"] is True  # nothing written

    assert state.release_hold("d1", "run3")
    approved = jobs.run_locked(
        settings,
        state,
        "d1",
        "run4",
        source=source,
        run=RunOptions(release_brake=True, trigger="approve", full=True),
    )
    assert approved.status == "ok" and approved.kinds["students"]["disabled"] == 7
    # (other sessions share the test Redis db and may empty it between runs: check the newest only)
    assert state.history("d1")[0].run_id == "run4"


def test_a_second_trigger_answers_with_the_running_run_and_a_worker_runs_it(
    settings: Settings, redis_url: str
) -> None:
    source = MemorySource(make_district_roster(10, schools=1))
    run_id, queued = jobs.trigger_sync(settings, "d1")
    again, queued_again = jobs.trigger_sync(settings, "d1")
    assert queued and not queued_again and again == run_id

    # The worker process would read Settings from the environment and ask Clever: here the job
    # runs the test's settings and in-memory roster instead.
    connection = Redis.from_url(redis_url)
    queue = queues.queue(jobs.QUEUE_NAME, connection)
    job = queue.fetch_job(f"sync-{run_id}")
    assert job is not None
    assert tuple(job.args) == ("d1", run_id)  # loads the payload before the function is swapped
    job.func_name = "tests.integration.test_sync_jobs._run_with_test_roster"
    job.save()
    _CONTEXT.update(settings=settings, source=source)
    queues.worker([queue], connection, SimpleWorker).work(burst=True)
    state = SyncState.from_url(redis_url)
    report = state.report(run_id)
    assert report is not None and report.status == "ok", report
    assert state.running("d1") is None
    third, fresh = jobs.trigger_sync(settings, "d1")
    assert fresh and third != run_id


_CONTEXT: dict[str, object] = {}


def _run_with_test_roster(district_id: str, run_id: str, **kwargs: object) -> object:
    return jobs.sync_job(
        district_id, run_id, settings=_CONTEXT["settings"], source=_CONTEXT["source"], **kwargs
    )  # type: ignore[arg-type]
