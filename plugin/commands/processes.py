"""Background processes the demo runs beside the services: the sandbox, the sidecar, a worker.

Each one has a pid file under ``var/demo/`` and a log under ``var/log/``; starting one that already
answers is a no-op, so ``make demo`` can run again and again. ``scripts/services down`` stops them.
Beside the pid file, a fingerprint (SHA-256) of the command line and environment it was started
with: a process started with other arguments (say the sandbox with other redirect URIs, after an
upgrade) is restarted instead of reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from model.base import ConfigError


@dataclass(frozen=True, slots=True)
class Background:
    """A long-running process: how to start it and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    ready_url: str | None
    env: Mapping[str, str]


# The children this process started, kept so ``stop`` can reap them (a zombie still "answers" kill 0).
_started: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _answers(url: str | None) -> bool:
    if url is None:
        return False
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def fingerprint(process: Background) -> str:
    """A digest of what ``process`` runs with (never the values themselves: the env holds secrets)."""
    what = json.dumps([list(process.argv), sorted(process.env.items())])
    return hashlib.sha256(what.encode()).hexdigest()


def ensure_running(process: Background, var: Path, *, timeout: float = 60.0) -> bool:
    """Start ``process`` unless it already runs as asked; True when it was started now."""
    pid_file = var / "demo" / f"{process.name}.pid"
    print_file = var / "demo" / f"{process.name}.fingerprint"
    same = print_file.exists() and print_file.read_text().strip() == fingerprint(process)
    if same and _alive(pid_file) and (process.ready_url is None or _answers(process.ready_url)):
        return False
    stop(process.name, var)
    (var / "demo").mkdir(parents=True, exist_ok=True)
    (var / "log").mkdir(parents=True, exist_ok=True)
    (var / "log").chmod(0o700)
    # Owner-only: a request log holds one-time codes in query strings (portal arrivals).
    log_path = var / "log" / f"{process.name}.log"
    with open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
        log_path.chmod(0o600)  # a log made before this version was 0644
        child = subprocess.Popen(
            list(process.argv),
            env={**os.environ, **process.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(child.pid))
    print_file.write_text(fingerprint(process))
    _started[child.pid] = child
    deadline = time.monotonic() + timeout
    while process.ready_url is not None and not _answers(process.ready_url):
        if child.poll() is not None or time.monotonic() > deadline:
            raise ConfigError(f"{process.name} did not start; see var/log/{process.name}.log")
        time.sleep(0.3)
    return True


def stop(name: str, var: Path) -> None:
    """Stop a process started by ``ensure_running`` (its whole process group)."""
    pid_file = var / "demo" / f"{name}.pid"
    if not _alive(pid_file):
        pid_file.unlink(missing_ok=True)
        return
    pid = int(pid_file.read_text().strip())
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        child = _started.get(pid)
        if child is not None and child.poll() is not None:
            del _started[pid]
        if not _alive(pid_file):
            break
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
