"""The fault tests' world (``tests/integration/test_faults*.py``): a sandbox district as Clever, the
environment of a worker or CLI process for it, and the helpers that kill and wait.

Every wait is bounded, and generous: the suite runs on a loaded 2-core machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from keycloak import KeycloakAdmin

from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from sandbox.app import create_app as create_sandbox
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState
from tests.conftest import ROOT, worker_environment

LEASE = 3  # seconds (``KCC_LOCK_LEASE_SECONDS``): keeps the suite short
BIN = Path(sys.executable).parent


@dataclass
class FaultWorld:
    settings: Settings
    sandbox: SandboxState
    env: dict[str, str]
    state: SyncState

    @property
    def district_id(self) -> str:
        return self.sandbox.district_id

    def cli(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "keycloak-clever"), "sync", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sync(self, *args: str) -> tuple[int, dict[str, object]]:
        proc = self.cli("--json", *args)
        out, err = proc.communicate(timeout=300)
        assert out.strip(), err[-3000:]
        return proc.returncode, json.loads(out)

    def burst(self) -> None:
        """``worker.py --burst``: run what is queued, then exit."""
        done = subprocess.run(
            [sys.executable, "worker.py", "--burst"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    def worker(self, *args: str, stderr: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
        """``worker.py`` (RQ worker with its scheduler) as its own process."""
        return subprocess.Popen(
            [sys.executable, "worker.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )


def sandbox_environment(
    settings: Settings, url: str, district_id: str, *, bulk: bool, **extra: str
) -> dict[str, str]:
    """A worker's or CLI's environment for the sandbox Clever at ``url``: short leases, UTC, the
    write path ``bulk`` picks."""
    return worker_environment(
        settings,
        KCC_TIMEZONE="UTC",
        KCC_LOCK_LEASE_SECONDS=str(LEASE),
        KCC_KEYCLOAK_BULK="true" if bulk else "false",
        KCC_CLEVER_OAUTH_URL=url,
        KCC_CLEVER_API_URL=url,
        KCC_CLEVER_CLIENT_ID="sandbox-client",
        KCC_CLEVER_CLIENT_SECRET="sandbox-secret",
        KCC_CLEVER_DISTRICT_ID=district_id,
        **extra,
    )


@contextmanager
def fault_world_of(
    settings: Settings, keycloak_admin: KeycloakAdmin, *, size: int, bulk: bool, **extra: str
) -> Iterator[FaultWorld]:
    """A sandbox of ``size`` students as Clever; ``bulk``: new accounts through the extension."""
    app = create_sandbox(SandboxConfig(size=size, seed=21))
    sandbox: SandboxState = app.extensions["clever_sandbox"]
    with serve(app) as url:
        env = sandbox_environment(settings, url, sandbox.district_id, bulk=bulk, **extra)
        world_settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("KCC_")})
        ensure_broker(keycloak_admin, world_settings)
        # The worker schedules the district's weekly run at start: this window's counts as done.
        opens, _ = jobs.window_around(datetime.now(UTC), "UTC")
        state = jobs.state_for(world_settings)
        state.set_weekly_done(sandbox.district_id, opens.date().isoformat())
        yield FaultWorld(world_settings, sandbox, env, state)


def wait(what: str, done: Callable[[], bool], limit: float = 120.0, every: float = 0.1) -> float:
    """Seconds until ``done()``; fails after ``limit``."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < limit, f"{what}: not within {limit:.0f} s"
        time.sleep(every)
    return time.monotonic() - started


def steady(value: Callable[[], int], quiet: float = 3.0, limit: float = 120.0) -> int:
    """``value()`` once it has not changed for ``quiet`` seconds."""
    started = time.monotonic()
    last, since = value(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() - started < limit, f"still changing after {limit:.0f} s"
        time.sleep(0.5)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
    return last


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (RQ's work horse runs the job in its own session)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_worker(worker: subprocess.Popen[str]) -> None:
    """The host died: kill -9 the worker and its children (work horse, scheduler)."""
    for pid in [*children(worker.pid), worker.pid]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=30)


def students(admin: KeycloakAdmin) -> int:
    path = f"admin/realms/{admin.connection.realm_name}/users/count"
    found: int = admin.connection.raw_get(path, q="clever_role:student").json()
    return found


def stop_postgres(services_env: dict[str, str]) -> None:
    """Stop Keycloak's PostgreSQL (``pg_ctl stop -m fast``, as its owner); ``scripts/services up``
    starts it again."""
    elsewhere = ROOT / "var" / "postgres-elsewhere"
    pg_dir = Path(elsewhere.read_text().strip()) if elsewhere.exists() else ROOT / "var" / "postgres"
    command = [
        f"{services_env['POSTGRES_BIN']}/pg_ctl",
        "-D",
        str(pg_dir / "data"),
        "-m",
        "fast",
        "-w",
        "stop",
    ]
    if os.geteuid() == 0:  # PostgreSQL runs as its own user (scripts/services)
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def services_up() -> None:
    """``scripts/services up``: start what was stopped, wait until everything is ready."""
    up = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, timeout=600, check=False
    )
    assert up.returncode == 0, up.stderr[-2000:]
