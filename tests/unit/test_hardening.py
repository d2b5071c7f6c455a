"""The sidecar's own checks: a weak secret key refuses to start; every response has the headers."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from model.base import ConfigError
from plugin.app import create_app
from plugin.config.hardening import SECURITY_HEADERS, secret_key_problem, valid_run_id
from plugin.config.settings import Settings
from tests.unit.test_broker_portal import ENV


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short-key",
        "x" * 32,
        "test-secret-key-" + "x" * 24,
        "password" * 8,
        secrets.token_hex(16),  # 16 random bytes: too few
    ],
)
def test_a_missing_short_or_patterned_secret_key_refuses_to_start(key: str) -> None:
    settings = replace(Settings.from_env(ENV), secret_key=key)
    with pytest.raises(ConfigError, match="KCC_SECRET_KEY") as refused:
        create_app(settings)
    assert "secrets.token_hex(32)" in str(refused.value)  # the message says how to make a good one
    assert key == "" or key not in str(refused.value)  # and never repeats the key


@pytest.mark.parametrize("key", [secrets.token_hex(32), secrets.token_urlsafe(32), secrets.token_hex(48)])
def test_thirty_two_random_bytes_are_accepted(key: str) -> None:
    assert secret_key_problem(key) is None
    create_app(replace(Settings.from_env(ENV), secret_key=key))


def test_a_weak_key_is_refused_by_the_worker_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import worker

    for name, value in {**ENV, "KCC_SECRET_KEY": "x" * 40}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="KCC_SECRET_KEY"):
        worker.main(["--burst"])


def test_unauthenticated_answers_carry_the_security_headers() -> None:
    client = create_app(Settings.from_env(ENV)).test_client()
    for path in ("/healthz", "/metrics", "/configuration/authentication/clever/api/status"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)


@pytest.mark.parametrize("run_id", ["0123456789ab", "full1", "a-b-c"])
def test_our_run_ids_are_valid(run_id: str) -> None:
    assert valid_run_id(run_id)


@pytest.mark.parametrize("run_id", ["", "../x", "a b", "a:b", "é", "x" * 65, "a\nb", "sync-*"])
def test_other_run_ids_are_not(run_id: str) -> None:
    assert not valid_run_id(run_id)
