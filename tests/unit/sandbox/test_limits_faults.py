"""The per-token rate limit and deterministic fault injection."""

from __future__ import annotations

import json

import pytest

from sandbox.app import create_app
from sandbox.config import Clock, FaultSpec, SandboxConfig
from sandbox.state import SandboxState


def test_rate_limit_per_token_with_headers_and_an_empty_429() -> None:
    clock = Clock(start=1_750_000_000.0)  # 40 s into a minute of the sandbox clock
    app = create_app(SandboxConfig(size=20, rate_limit=3, clock=clock))
    state: SandboxState = app.extensions["clever_sandbox"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {state.district_token}"}
    answers = [client.get("/v3.0/schools", headers=auth) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    # Fixed windows on the clock's minutes: this one ends 20 s on, whenever the token started.
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {str(1_750_000_020)}
    assert answers[3].get_data() == b"" and answers[3].headers["X-RateLimit-Remaining"] == "0"
    clock.advance(19)
    assert client.get("/v3.0/schools", headers=auth).status_code == 429
    clock.advance(1)
    fresh = client.get("/v3.0/schools", headers=auth)
    assert fresh.status_code == 200 and fresh.headers["X-RateLimit-Remaining"] == "2"
    assert fresh.headers["X-RateLimit-Reset"] == str(1_750_000_080)


def test_an_injected_429_burst_says_when_the_window_ends() -> None:
    clock = Clock(start=1_750_000_045.5)  # 25.5 s into a minute of the sandbox clock
    app = create_app(SandboxConfig(size=20, faults="burst429=1,burst_len=2,seed=3", clock=clock))
    state: SandboxState = app.extensions["clever_sandbox"]
    answer = app.test_client().get(
        "/v3.0/schools", headers={"Authorization": f"Bearer {state.district_token}"}
    )
    assert answer.status_code == 429 and answer.get_data() == b""
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert answer.headers["X-RateLimit-Limit"] == "1200"
    assert int(answer.headers["X-RateLimit-Reset"]) == 1_750_000_080  # not a second away
    assert int(answer.headers["X-RateLimit-Reset"]) - clock() == 34.5  # the rest of the minute


def test_a_429_burst_ends_with_its_window() -> None:
    """A spent window is over when the window is: the client that waited for Reset gets through."""

    def run(wait: float) -> tuple[list[int], list[int]]:
        clock = Clock(start=1_750_000_070.0)  # 10 s before the window ends
        app = create_app(SandboxConfig(size=20, faults="burst429=0.05,burst_len=100,seed=1", clock=clock))
        state: SandboxState = app.extensions["clever_sandbox"]
        client = app.test_client()
        auth = {"Authorization": f"Bearer {state.district_token}"}
        before = [client.get("/v3.0/schools", headers=auth).status_code for _ in range(20)]
        clock.advance(wait)
        return before, [client.get("/v3.0/schools", headers=auth).status_code for _ in range(40)]

    before, same_window = run(wait=9)
    first = before.index(429)  # seed 1: a burst of up to 100 starts early
    assert before[first:] == [429] * (20 - first) and same_window == [429] * 40
    before_again, next_window = run(wait=10)  # the window ended: the burst with it
    assert before_again == before and next_window[:5] == [200] * 5  # (seed 1: a new burst later)


def _statuses(spec: str, count: int = 300) -> list[int]:
    # A fixed clock: a burst ends with its window, so a run crossing a minute would differ.
    app = create_app(
        SandboxConfig(size=20, faults=spec, rate_limit=100_000, clock=Clock(start=1_750_000_000.0))
    )
    state: SandboxState = app.extensions["clever_sandbox"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {state.district_token}"}
    return [client.get("/v3.0/schools", headers=auth).status_code for _ in range(count)]


def test_faults_are_deterministic_from_the_seed() -> None:
    first = _statuses("error_rate=0.1,burst429=0.03,seed=7")
    assert first == _statuses("error_rate=0.1,burst429=0.03,seed=7")
    assert first != _statuses("error_rate=0.1,burst429=0.03,seed=8")
    assert {500, 502, 503} & set(first) and 429 in first and 200 in first
    assert 0.6 < first.count(200) / len(first) < 0.95


def test_no_faults_by_default() -> None:
    assert set(_statuses("", 100)) == {200}


def test_truncated_bodies_are_broken_json() -> None:
    app = create_app(SandboxConfig(size=20, faults="truncate=1,seed=1"))
    state: SandboxState = app.extensions["clever_sandbox"]
    body = app.test_client().get("/v3.0/schools", headers={"Authorization": f"Bearer {state.district_token}"})
    assert body.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body.get_data())


def test_fault_specs_are_checked() -> None:
    assert FaultSpec.parse("error_rate=0.05,latency_ms=20,seed=7") == FaultSpec(
        error_rate=0.05, latency_ms=20, seed=7
    )
    with pytest.raises(ValueError, match="unknown"):
        FaultSpec.parse("errors=0.5")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultSpec.parse("drop=2")
