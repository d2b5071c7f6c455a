"""Keycloak runs as it was asked to (``KEYCLOAK_BACKEND``, default postgres, what ``make test`` sets):
on PostgreSQL in production mode, the realms of the tests in PostgreSQL's own tables; or
``start-dev`` on dev-file H2 when that is asked for."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _command_line(pid_file: str) -> list[str]:
    pid = Path(pid_file).read_text().strip()
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def _realms_in_postgres(env: dict[str, str]) -> set[str]:
    done = subprocess.run(
        [
            f"{env['POSTGRES_BIN']}/psql",
            "-X",
            "-tA",
            "-h",
            env["POSTGRES_HOST"],
            "-p",
            env["POSTGRES_PORT"],
            "-U",
            env["POSTGRES_USER"],
            "-d",
            env["POSTGRES_DB"],
            "-c",
            "SELECT name FROM realm",
        ],
        env={**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return set(done.stdout.split())


def test_keycloak_runs_on_the_backend_asked_for(services_env: dict[str, str], realm: str) -> None:
    asked = os.environ.get("KEYCLOAK_BACKEND", "postgres")
    assert services_env["KEYCLOAK_BACKEND"] == asked
    argv = _command_line(services_env["KEYCLOAK_PID_FILE"])
    if asked == "postgres":
        assert "start" in argv and "--optimized" in argv and "start-dev" not in argv
        db_url = f"--db-url=jdbc:postgresql://127.0.0.1:{services_env['POSTGRES_PORT']}/{services_env['POSTGRES_DB']}"
        assert db_url in argv
        assert not any(services_env["POSTGRES_PASSWORD"] in arg for arg in argv)  # env, not argv
        assert {"master", realm} <= _realms_in_postgres(services_env)
    else:
        assert asked == "dev-file" and "start-dev" in argv
