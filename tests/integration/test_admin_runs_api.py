"""What the page and the JSON API answer about runs: 404 for a run that is not the district's (the
page, its CSV, Approve's confirmation, the API's run, progress, approve and discard); the progress
of a finished RQ job in plain words (never ``JobStatus.FINISHED``); Approve through the API only
with the held run's numbers. Real Keycloak (a realm admin's bearer token) and Redis, RQ's worker.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from redis import Redis
from rq import SimpleWorker

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore, IntegrationConfig
from plugin.runs import jobs, queues
from plugin.runs.changes import ChangeStore
from plugin.runs.state import SyncState
from plugin.sync.report import SyncReport
from plugin.sync.would_change import WouldChange
from tests.integration.test_admin_auth import admin_redis, admin_settings, make_user, password_token

pytestmark = pytest.mark.integration
__all__ = ["admin_redis"]  # a fixture, imported for this module's tests
DISTRICT = "603ebb354d3c6da5d7000001"


@pytest.fixture
def api(
    settings: Settings, keycloak_admin: KeycloakAdmin, admin_redis: Redis
) -> tuple[FlaskClient, Settings, dict[str, str]]:
    page_settings = admin_settings(settings)
    ConfigStore(admin_redis, page_settings).save(IntegrationConfig(district_id=DISTRICT, school_mode="all"))
    make_user(keycloak_admin, "runs-admin", client_roles=("realm-admin",))
    token = password_token(page_settings, "runs-admin")
    return create_app(page_settings).test_client(), page_settings, {"Authorization": f"Bearer {token}"}


def test_an_unknown_run_is_404_on_the_page_and_in_the_api(
    api: tuple[FlaskClient, Settings, dict[str, str]],
) -> None:
    client, settings, auth = api
    other = SyncReport(run_id="otherdistrict1", district_id="f" * 24)  # a run of another district
    SyncState.from_url(settings.redis_url).save(other.finish("ok"))
    for run_id in ("nosuchrun", "otherdistrict1"):
        for method, path in (
            ("GET", f"api/runs/{run_id}"),
            ("GET", f"api/runs/{run_id}/progress"),
            ("POST", f"api/runs/{run_id}/approve"),
            ("POST", f"api/runs/{run_id}/discard"),
        ):
            answer = client.open(f"{URL_PREFIX}/{path}", method=method, headers=auth, json={})
            assert answer.status_code == 404, (method, path, answer.json)
            assert answer.json == {"error": f"No run {run_id} of this district."}
        for path in (f"runs/{run_id}", f"runs/{run_id}/approve", f"runs/{run_id}/would-change.csv"):
            answer = client.get(f"{URL_PREFIX}/{path}", headers={**auth, "Accept": "text/html"})
            assert answer.status_code == 404, path
            assert "Not found" in answer.get_data(as_text=True)


def test_the_progress_of_a_finished_job_is_in_plain_words(
    api: tuple[FlaskClient, Settings, dict[str, str]],
) -> None:
    client, settings, auth = api
    run_id = "plainwords1"
    SyncState.from_url(settings.redis_url).save(SyncReport(run_id=run_id, district_id=DISTRICT).finish("ok"))
    connection = Redis.from_url(settings.redis_url)
    queue = queues.queue(jobs.QUEUE_NAME, connection)
    queue.enqueue("tests.jobs.record_marker", settings.redis_url, run_id, job_id=f"sync-{run_id}")
    queues.worker([queue], connection, SimpleWorker).work(burst=True)

    answer = client.get(f"{URL_PREFIX}/api/runs/{run_id}/progress", headers=auth)
    assert answer.status_code == 200
    assert answer.json is not None
    assert (answer.json["job"], answer.json["status"], answer.json["finished"]) == ("finished", "ok", True)
    assert "JobStatus" not in answer.get_data(as_text=True)


def test_approve_in_the_api_needs_the_held_runs_numbers(
    api: tuple[FlaskClient, Settings, dict[str, str]],
) -> None:
    client, settings, auth = api
    state = SyncState.from_url(settings.redis_url)
    held = SyncReport(run_id="heldrun1", district_id=DISTRICT).finish("held")
    state.save(held)
    state.hold(held)
    ChangeStore(state.redis).save(
        held.run_id, WouldChange(totals={"people": 25, "classes": 2, "memberships": 130})
    )
    url = f"{URL_PREFIX}/api/runs/{held.run_id}/approve"

    for body in ({}, {"people": 24, "classes": 2, "memberships": 130}):
        refused = client.post(url, headers=auth, json=body)
        assert refused.status_code == 400
        assert refused.json is not None
        assert "disable 25 people, retire 2 classes and remove 130 memberships" in refused.json["error"]
    assert state.held(DISTRICT) is not None

    detail = client.get(f"{URL_PREFIX}/api/runs/{held.run_id}", headers=auth).json
    assert detail is not None and detail["would_change"]["totals"] == {
        "people": 25,
        "classes": 2,
        "memberships": 130,
    }
    approved = client.post(url, headers=auth, json=detail["would_change"]["totals"])
    assert approved.status_code == 202, approved.json
    assert state.held(DISTRICT) is None
    decided = state.report(held.run_id)
    assert decided is not None and (decided.status, decided.decided_by) == (
        "approved",
        "runs-admin (JSON API)",
    )
