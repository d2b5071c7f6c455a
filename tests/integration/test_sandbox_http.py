"""The sandbox over a real socket: dropped connections, truncated bodies, the ``sandbox`` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from sandbox.app import create_app
from sandbox.cli import sandbox as sandbox_cli
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration


def test_dropped_connections_and_truncated_bodies_reach_the_client() -> None:
    app = create_app(SandboxConfig(size=20, faults="drop=1,seed=3"))
    state: SandboxState = app.extensions["clever_sandbox"]
    auth = {"Authorization": f"Bearer {state.district_token}"}
    with serve(app) as url, pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v3.0/schools", headers=auth, timeout=10)
    app = create_app(SandboxConfig(size=20, faults="truncate=1,seed=3"))
    state = app.extensions["clever_sandbox"]
    with serve(app) as url:
        answer = requests.get(
            f"{url}/v3.0/schools", headers={"Authorization": f"Bearer {state.district_token}"}, timeout=10
        )
    with pytest.raises(requests.JSONDecodeError):
        answer.json()


def test_cli_mutate_changes_a_running_sandbox(sandbox_url: str, sandbox_state: SandboxState) -> None:
    runner = CliRunner()
    student = sandbox_state.people("student", 1)[0]["id"]
    base = ["mutate", "--url", sandbox_url]
    updated = runner.invoke(sandbox_cli, [*base, "update", "users", student, '{"name": {"first": "Zoë"}}'])
    assert updated.exit_code == 0, updated.output
    assert "users.updated" in updated.output and student in updated.output
    sections = list(sandbox_state.store.ids("user_sections", student))
    other = next(
        s for s in sandbox_state.store.ids("all", "sections", sandbox_state.district_id) if s not in sections
    )
    moved = runner.invoke(sandbox_cli, [*base, "move-student", student, "--from", sections[0], "--to", other])
    assert moved.exit_code == 0 and moved.output.count("sections.updated") == 2
    feed = requests.get(
        f"{sandbox_url}/v3.0/events",
        headers={"Authorization": f"Bearer {sandbox_state.district_token}"},
        timeout=10,
    ).json()
    assert [item["data"]["type"] for item in feed["data"]] == [
        "users.updated",
        "sections.updated",
        "sections.updated",
    ]
    refused = runner.invoke(sandbox_cli, [*base, "--client-secret", "wrong", "delete", "users", student])
    assert refused.exit_code != 0 and "Invalid client credentials" in refused.output


def test_cli_generate_writes_a_roster_the_sandbox_serves(tmp_path: Path) -> None:
    out = tmp_path / "district.json"
    result = CliRunner().invoke(sandbox_cli, ["generate", "--size", "50", "--seed", "8", "-o", str(out)])
    assert result.exit_code == 0, result.output
    roster = json.loads(out.read_text(encoding="utf-8"))
    app = create_app(SandboxConfig(roster=out))
    assert len(app.extensions["clever_sandbox"].store.raw["users"]) == len(roster["users"])
    bad = tmp_path / "bad.json"
    roster["users"][0]["roles"] = {"wizard": {}}
    bad.write_text(json.dumps(roster))
    refused = CliRunner().invoke(sandbox_cli, ["serve", "--roster", str(bad), "--port", "1"])
    assert refused.exit_code == 1 and "users[0]" in refused.output and "roles.wizard" in refused.output
