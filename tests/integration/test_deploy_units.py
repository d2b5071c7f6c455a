"""The systemd units in ``deploy/systemd`` are valid and start binaries that exist.

Each unit is checked by ``systemd-analyze verify`` (syntax, every key known, every ``ExecStart``
executable) with the install paths pointed at this checkout: ``/opt/keycloak-clever`` at the
repository (its ``.venv``), ``/opt/keycloak`` at the Keycloak ``scripts/services`` unpacked.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def _keycloak_home(services_env: dict[str, str]) -> Path:
    pid_file = Path(services_env["KEYCLOAK_PID_FILE"])
    # The version the services run (an earlier version's unpacked copy may sit beside it).
    home = pid_file.parent / f"keycloak-{services_env['KEYCLOAK_VERSION']}" / "bin" / "kc.sh"
    assert home.exists(), home
    return home.parent.parent


def _exec_start(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1
    return shlex.split(lines[0].removeprefix("ExecStart="))


def test_every_unit_verifies_and_runs_what_this_checkout_installs(
    services_env: dict[str, str], tmp_path: Path
) -> None:
    assert {u.name for u in UNITS} == {
        "keycloak.service",
        "keycloak-clever-sidecar.service",
        "keycloak-clever-worker@.service",
    }
    keycloak = _keycloak_home(services_env)
    for unit in UNITS:
        text = unit.read_text()
        assert "\nUser=" in text and "User=root" not in text, unit.name  # never as root
        local = text.replace("/opt/keycloak-clever", str(ROOT)).replace("/opt/keycloak/", f"{keycloak}/")
        binary = Path(_exec_start(local)[0])
        assert binary.is_file() and binary.stat().st_mode & 0o111, binary
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(local)
        done = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(tmp_path / name)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Unknown" not in done.stderr and "ignoring" not in done.stderr, done.stderr
    sidecar = _exec_start((ROOT / "deploy/systemd/keycloak-clever-sidecar.service").read_text())
    assert sidecar[0].endswith("/.venv/bin/gunicorn") and sidecar[-1] == "wsgi:app"
    worker = _exec_start((ROOT / "deploy/systemd/keycloak-clever-worker@.service").read_text())
    assert worker[-1].endswith("/worker.py")
