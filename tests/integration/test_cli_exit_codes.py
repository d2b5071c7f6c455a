"""``keycloak-clever sync`` under failure: a failed run prints its report and exits non-zero; every
refusal exits non-zero with one line saying why (real Keycloak, Redis, OpenLDAP, the sandbox)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from plugin.commands.cli import cli
from plugin.config.settings import Settings
from plugin.runs import jobs
from sandbox.state import SandboxState
from tests.conftest import worker_environment

pytestmark = pytest.mark.integration


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    clever = settings.clever
    values = {
        "KCC_CLEVER_OAUTH_URL": clever.oauth_url,
        "KCC_CLEVER_API_URL": clever.api_url,
        "KCC_CLEVER_CLIENT_ID": clever.client_id,
        "KCC_CLEVER_CLIENT_SECRET": clever.client_secret,
        "KCC_CLEVER_DISTRICT_ID": clever.district_id,
        "KCC_TIMEZONE": "UTC",
    }
    return worker_environment(settings, **{**values, **extra})


def test_a_failed_run_prints_its_report_as_json_and_exits_1(clever_settings: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["sync", "--full", "--json"], env=_env(clever_settings, KCC_CLEVER_CLIENT_SECRET="wrong")
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert any("refused the credentials" in error for error in report["errors"]), report["errors"]
    assert "Traceback" not in result.output
    assert "wrong" not in result.stdout  # the secret is never in the report


def test_refusals_exit_1_with_one_line(clever_settings: Settings) -> None:
    state = jobs.state_for(clever_settings)
    # A running run's lease (a queued run's lock without a job would be taken over).
    assert state.acquire(clever_settings.clever.district_id, "other-run", ttl=state.lease_s) is None
    env = _env(clever_settings)
    for args in (["sync"], ["sync", "--queue"], ["sync", "--approve", "nosuchrun"]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        [line] = result.output.strip().splitlines()
        assert line.startswith("Error: "), line
    assert "already running: run other-run" in CliRunner().invoke(cli, ["sync", "--queue"], env=env).output


def test_an_ok_run_exits_0_and_a_held_one_3(clever_settings: Settings, sandbox_state: SandboxState) -> None:
    env = _env(clever_settings)
    assert CliRunner().invoke(cli, ["sync", "--full"], env=env).exit_code == 0
    students = sandbox_state.people("student")
    for student in students[: len(students) // 5]:  # a fifth leave Clever: over the 10% brake
        sandbox_state.delete("users", student["id"])
    held = CliRunner().invoke(cli, ["sync", "--full", "--json"], env=env)
    assert held.exit_code == 3, held.output
    report = json.loads(held.stdout)
    assert report["status"] == "held" and report["brake"]["held"]
    assert f"keycloak-clever sync --approve {report['run_id']}" in held.stderr


def test_a_queued_lock_whose_job_is_gone_is_taken_over(clever_settings: Settings) -> None:
    state = jobs.state_for(clever_settings)
    district = clever_settings.clever.district_id
    assert state.acquire(district, "lost-run") is None  # queued, and its RQ job never existed
    run_id, queued = jobs.trigger_sync(clever_settings, district)
    assert queued and run_id != "lost-run"
    assert state.running(district) == run_id
