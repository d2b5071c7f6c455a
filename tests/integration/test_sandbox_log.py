"""The demo's sandbox process keeps no token in a log anyone on the machine can read."""

from __future__ import annotations

import socket
import stat
import sys
from pathlib import Path

import pytest
import requests

from plugin.commands.processes import Background, ensure_running, stop

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_sandbox_log_is_owner_only_and_holds_no_token(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(BIN / "keycloak-clever-sandbox"), "serve", f"--port={port}", "--size=20"]
    process = Background("sandbox", argv, f"{base}/.well-known/openid-configuration", {})
    ensure_running(process, tmp_path)
    try:
        answer = requests.get(
            f"{base}/oauth/tokens?owner_type=district", auth=("sandbox-client", "sandbox-secret"), timeout=10
        )
        assert answer.status_code == 200, answer.text
        tokens = [item["access_token"] for item in answer.json()["data"]]
        assert tokens
    finally:
        stop("sandbox", tmp_path)
    log = tmp_path / "log" / "sandbox.log"
    text = log.read_text()
    assert "district-app token …" in text  # a hint, as the page shows
    assert not any(token in text for token in tokens)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "log").stat().st_mode) == 0o700
