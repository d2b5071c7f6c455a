"""Sandbox fixtures (loaded by ``tests/conftest.py``) and the path to ``../shared``.

``sandbox_app`` is a small generated district behind Flask's test client; ``sandbox_url`` the same
behind a real socket (``sandbox.server.serve``). ``shared_dir()`` finds Clever's spec and recorded
samples beside the repository: in CI a missing ``../shared`` fails the test, elsewhere it skips.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from plugin.config.settings import Settings
from sandbox.app import create_app
from sandbox.config import Clock, SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

SHARED = Path(__file__).resolve().parents[2] / "shared"
REDIRECT_URI = "http://app.example.test/callback"


def shared_dir() -> Path:
    """``../shared`` beside the repository (fail in CI when missing, else skip)."""
    if not (SHARED / "clever-spec").is_dir():
        reason = f"Clever's spec and samples are not at {SHARED}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return SHARED


@pytest.fixture
def sandbox_clock() -> Clock:
    """A clock the test can move (code expiry, rate-limit windows)."""
    return Clock()


@pytest.fixture
def sandbox_app(sandbox_clock: Clock) -> Flask:
    """A 60-student sandbox with one registered redirect URI and a movable clock."""
    return create_app(SandboxConfig(size=60, seed=11, redirect_uris=[REDIRECT_URI], clock=sandbox_clock))


@pytest.fixture
def sandbox_state(sandbox_app: Flask) -> SandboxState:
    """The state object of ``sandbox_app``."""
    state: SandboxState = sandbox_app.extensions["clever_sandbox"]
    return state


@pytest.fixture
def sandbox_url(sandbox_app: Flask) -> Iterator[str]:
    """``sandbox_app`` on a real socket; its base URL."""
    with serve(sandbox_app) as url:
        yield url


@pytest.fixture
def clever_settings(settings: Settings, sandbox_url: str, sandbox_state: SandboxState) -> Settings:
    """The test's Settings with the sandbox as Clever (its default app, its district)."""
    clever = dataclasses.replace(
        settings.clever,
        oauth_url=sandbox_url,
        api_url=sandbox_url,
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        district_id=sandbox_state.district_id,
    )
    return dataclasses.replace(settings, clever=clever)
