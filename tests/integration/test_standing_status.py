"""``keycloak-clever status``, the page's JSON API and ``/metrics`` show the standing state.

A full run with an ambiguous name match, then an incremental run that finds nothing: the standing
totals equal what Keycloak holds, the waiting list keeps the ambiguous person, a run's detail is
one call away, and the Prometheus metrics count both runs. Real Keycloak, Redis, OpenLDAP and the
sandbox over HTTP (``PageWorld`` of ``test_sync_page_jobs``).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.commands.cli import cli
from plugin.runs import jobs
from plugin.sync.run_options import RunOptions
from tests.integration.test_admin_auth import make_user, password_token
from tests.integration.test_sync_page_jobs import PageWorld, world

pytestmark = pytest.mark.integration
__all__ = ["world"]  # a fixture, imported for this module's tests


def _count(admin: KeycloakAdmin, role: str) -> int:
    path = f"admin/realms/{admin.connection.realm_name}/users/count"
    found: int = admin.connection.raw_get(path, q=f"clever_role:{role}").json()
    return found


def _token(world: PageWorld, username: str) -> str:
    return password_token(world.settings, username)


def test_status_api_and_metrics_show_what_is_synced_and_who_waits(
    world: PageWorld, keycloak_admin: KeycloakAdmin
) -> None:
    world.save()
    student = world.sandbox.people("student")[0]
    for i in (1, 2):
        keycloak_admin.create_user(
            {
                "username": f"same{i}",
                "enabled": True,
                "firstName": student["name"]["first"],
                "lastName": student["name"]["last"],
            }
        )
    full = jobs.sync_job(world.district_id, "full1", settings=world.settings, run=RunOptions(full=True))
    no_op = jobs.sync_job(world.district_id, "noop1", settings=world.settings)
    assert (full["status"], no_op["status"], no_op["mode"]) == ("ok", "no-changes", "incremental")

    students = _count(keycloak_admin, "student")
    student_ids = {p["id"] for p in world.sandbox.people("student")}
    held = {c for item in full["ambiguous"] for c in item["clever_ids"]}
    assert student["id"] in held and students == len(student_ids - held)
    result = CliRunner().invoke(cli, ["status"], env=world.environment())
    assert result.exit_code == 0, result.output
    teachers = _count(keycloak_admin, "teacher")
    assert f"synced now: students {students}, teachers {teachers}," in result.output
    assert "last full run: full1" in result.output
    assert f"ambiguous {student['id']}: " in result.output
    # How fresh the realm is (the no-op run checked Clever), continuous updates and retention.
    assert "last change from Clever applied just now; Clever checked just now" in result.output
    assert "continuous updates: off (the weekly window and Sync)" in result.output
    assert "retention off: the account of a person who left Clever stays disabled" in result.output

    as_json = CliRunner().invoke(cli, ["status", "--json"], env=world.environment())
    standing = json.loads(as_json.stdout)["standing"]
    fresh = json.loads(as_json.stdout)["freshness"]
    assert fresh["applied_run"] == "full1" and fresh["lag_s"] < 600 and fresh["continuous"] is False
    assert standing["people"]["students"] == students
    assert sorted((i["kind"], i["clever_id"]) for i in standing["waiting"]) == [
        ("ambiguous", c) for c in sorted(held)
    ]

    make_user(keycloak_admin, "metrics-admin", client_roles=("realm-admin",))
    bearer = {"Authorization": f"Bearer {_token(world, 'metrics-admin')}"}
    client = create_app(world.settings).test_client()
    detail = client.get(f"{URL_PREFIX}/api/runs/full1", headers=bearer)
    assert detail.status_code == 200 and detail.json is not None
    assert detail.json["report"]["kinds"]["students"]["created"] == students
    assert client.get(f"{URL_PREFIX}/api/runs/nosuchrun", headers=bearer).status_code == 404

    assert client.get("/metrics").status_code == 401  # admins only
    make_user(keycloak_admin, "plain-user")
    assert (
        client.get("/metrics", headers={"Authorization": f"Bearer {_token(world, 'plain-user')}"}).status_code
        == 403
    )
    metrics = client.get("/metrics", headers=bearer)
    assert metrics.status_code == 200
    text = metrics.get_data(as_text=True)
    district = world.district_id
    assert f'kcc_sync_runs_total{{district="{district}",status="ok"}} 1.0' in text
    assert f'kcc_sync_runs_total{{district="{district}",status="no-changes"}} 1.0' in text
    assert f'kcc_sync_people{{district="{district}",kind="students"}} {float(students)}' in text
    assert f'kcc_sync_waiting{{district="{district}",kind="ambiguous"}} {float(len(held))}' in text
    assert f'kcc_sync_run_duration_seconds_count{{district="{district}"}} 2.0' in text
    writes = full["writes"]["keycloak"]
    assert f'kcc_sync_writes_total{{district="{district}",system="keycloak"}} {float(writes)}' in text
    clever = [
        line for line in text.splitlines() if line.startswith("kcc_sync_requests_total") and "clever" in line
    ]
    assert clever and float(clever[0].rsplit(" ", 1)[1]) > 0
    assert "sandbox-secret" not in text
    lag = [
        line
        for line in text.splitlines()
        if line.startswith(f'kcc_sync_freshness_seconds{{district="{district}"}}')
    ]
    assert lag and 0 <= float(lag[0].rsplit(" ", 1)[1]) < 600, lag  # the no-op run checked Clever
    assert f'kcc_sync_last_change_applied_timestamp_seconds{{district="{district}"}}' in text
