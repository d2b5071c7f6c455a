"""``keycloak-clever`` errors a person can act on: every service it cannot reach is named with its URL
and what to check, exit code 1, no traceback on the terminal (the log file keeps it); ``--version``;
a dry run a real run would see held exits 4; a held run's JSON lists who it would disable, and
``--approve`` repeats the totals and asks first. Real Redis, Keycloak, OpenLDAP; the sandbox as Clever.
"""

from __future__ import annotations

import json
import socket
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plugin.commands.cli import cli
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from sandbox.state import SandboxState
from tests.integration.test_cli_exit_codes import _env

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env)


def _one_error_line(result: Result, log_file: Path) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith(("Error: ", "  error: "))]
    assert len(errors) == 1, result.output
    assert "Traceback" in log_file.read_text(encoding="utf-8")  # the log keeps what the terminal leaves out
    return errors[0]


def test_version() -> None:
    result = _run(["--version"], {})
    assert result.exit_code == 0
    assert result.output.strip() == f"keycloak-clever {version('keycloak-clever')}"


def test_redis_unreachable_is_named_with_its_url_and_no_password(
    clever_settings: Settings, tmp_path: Path
) -> None:
    log_file = tmp_path / "cli.log"
    url = f"redis://kcc:hunter2secret@127.0.0.1:{_closed_port()}/0"
    for command in (["sync"], ["status"]):
        env = {**_env(clever_settings, KCC_LOG_FILE=str(log_file)), "KCC_REDIS_URL": url}
        result = _run(command, env)
        line = _one_error_line(result, log_file)
        assert line.startswith(f"Error: Redis is not reachable at {url.replace('hunter2secret', '***')}"), (
            line
        )
        assert "check KCC_REDIS_URL" in line and str(log_file) in line
        assert "hunter2secret" not in result.output


@pytest.mark.parametrize(
    ("key", "service"),
    [
        ("KCC_CLEVER_API_URL", "Clever is not reachable at http://127.0.0.1:{port}"),
        ("KCC_KEYCLOAK_URL", "Keycloak is not reachable at http://127.0.0.1:{port}"),
        ("KCC_LDAP_URL", "LDAP is not reachable at ldap://127.0.0.1:{port}"),
    ],
)
def test_an_unreachable_service_is_named_with_its_url_and_what_to_check(
    clever_settings: Settings, tmp_path: Path, key: str, service: str
) -> None:
    log_file = tmp_path / "cli.log"
    port = _closed_port()
    scheme = "ldap" if key == "KCC_LDAP_URL" else "http"
    extra = {key: f"{scheme}://127.0.0.1:{port}", "KCC_LOG_FILE": str(log_file)}
    if key == "KCC_CLEVER_API_URL":
        extra["KCC_CLEVER_OAUTH_URL"] = extra[key]
    result = _run(["sync", "--full", "--dry-run"], {**_env(clever_settings), **extra})
    line = _one_error_line(result, log_file)
    assert service.format(port=port) in line, line
    assert "check " in line and key in line, line


def test_a_held_run_lists_who_in_json_and_approve_repeats_the_totals(
    clever_settings: Settings, sandbox_state: SandboxState, tmp_path: Path
) -> None:
    env = _env(clever_settings, KCC_LOG_FILE=str(tmp_path / "cli.log"))
    assert _run(["sync", "--full"], env).exit_code == 0
    students = sandbox_state.people("student")
    leavers = {s["id"] for s in students[: len(students) // 5]}
    for clever_id in leavers:
        sandbox_state.delete("users", clever_id)

    dry = _run(["sync", "--full", "--dry-run", "--json"], env)
    assert dry.exit_code == 4, dry.output  # a real run would be held
    assert {p["clever_id"] for p in json.loads(dry.stdout)["would_change"]["people"]} == leavers
    assert "a real run would be held for review" in dry.stderr

    held = _run(["sync", "--full", "--json"], env)
    assert held.exit_code == 3
    report = json.loads(held.stdout)
    would = report["would_change"]
    assert {p["clever_id"] for p in would["people"]} == leavers and all(
        p["username"] for p in would["people"]
    )
    assert report["started_by"].startswith("command line (")

    unasked = _run(["sync", "--approve", report["run_id"]], env)
    assert unasked.exit_code == 1
    assert f"will disable {len(leavers)} people" in unasked.stderr and "add --yes" in unasked.output
    assert SyncState.from_url(clever_settings.redis_url).held(clever_settings.clever.district_id) is not None

    approved = _run(["sync", "--approve", report["run_id"], "--yes", "--json"], env)
    assert approved.exit_code == 0, approved.output
    applied = json.loads(approved.stdout)
    assert applied["kinds"]["students"]["disabled"] == len(leavers)
    assert applied["started_by"].endswith(f"approving run {report['run_id']}")
    decided = SyncState.from_url(clever_settings.redis_url).report(report["run_id"])
    assert (
        decided is not None and decided.status == "approved" and decided.decided_by.startswith("command line")
    )
