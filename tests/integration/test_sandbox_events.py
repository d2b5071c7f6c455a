"""The Events feed over HTTP: 30 days kept by the sandbox clock, a stale ``starting_after`` refused.

Decision (sandbox/README.md): ``GET /v3.0/events?starting_after=<id>`` with an id that is not, or no
longer, in the feed answers ``404 {"message": ...}`` (the one error Clever's events spec models),
never an empty page that would let a client skip the events it missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connectors.clever import CleverClient, StaleCursorError
from model.config import CleverSettings
from sandbox.app import create_app
from sandbox.config import Clock, SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration
DAY = 24 * 3600


@pytest.fixture
def running() -> Iterator[tuple[str, SandboxState, Clock]]:
    clock = Clock(start=1_750_000_000.0)
    app = create_app(SandboxConfig(size=30, seed=4, clock=clock))
    with serve(app) as url:
        yield url, app.extensions["clever_sandbox"], clock


def get(url: str, state: SandboxState, path: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {state.district_token}"}
    return requests.get(f"{url}{path}", headers=headers, timeout=10)


def event_ids(url: str, state: SandboxState, query: str = "") -> list[str]:
    answer = get(url, state, f"/v3.0/events?limit=100{query}")
    assert answer.status_code == 200, answer.text
    return [item["data"]["id"] for item in answer.json()["data"]]


def client_of(url: str, **kwargs: Any) -> CleverClient:
    settings = CleverSettings(
        oauth_url=url, api_url=url, client_id="sandbox-client", client_secret="sandbox-secret"
    )
    return CleverClient(settings, backoff=0.01, max_backoff=0.1, **kwargs)


def test_events_leave_the_head_of_the_feed_after_30_days(running: tuple[str, SandboxState, Clock]) -> None:
    url, state, clock = running
    first, second = (u["id"] for u in state.people("student", 2))
    state.update("users", first, {"email": "old@example.org"})
    clock.advance(20 * DAY)
    state.update("users", second, {"email": "newer@example.org"})
    old, newer = event_ids(url, state)

    clock.advance(10 * DAY - 1)  # the first event is 30 days old less a second: still there
    assert event_ids(url, state) == [old, newer]
    clock.advance(2)
    assert event_ids(url, state) == [newer]  # dropped off the head; the newer one stays
    assert get(url, state, f"/v3.0/events/{old}").status_code == 404
    assert get(url, state, f"/v3.0/events/{newer}").status_code == 200


def test_a_starting_after_not_in_the_feed_is_404_not_an_empty_page(
    running: tuple[str, SandboxState, Clock],
) -> None:
    url, state, clock = running
    for n, student in enumerate(state.people("student", 3)):
        state.update("users", student["id"], {"email": f"s{n}@example.org"})
    ids = event_ids(url, state)
    assert event_ids(url, state, f"&starting_after={ids[0]}") == ids[1:]
    assert event_ids(url, state, f"&starting_after={ids[-1]}") == []  # the newest: an empty page
    # A cursor filtered out by record_type is still in the feed.
    assert event_ids(url, state, f"&record_type=sections&starting_after={ids[0]}") == []

    never = get(url, state, "/v3.0/events?starting_after=" + "0" * 24)
    assert never.status_code == 404 and "not (or no longer) in the events feed" in never.json()["message"]
    clock.advance(31 * DAY)
    dropped = get(url, state, f"/v3.0/events?starting_after={ids[-1]}")
    assert dropped.status_code == 404 and ids[-1] in dropped.json()["message"]
    # ending_before stays a bound, so the client's newest-event probe still works on any id.
    assert event_ids(url, state, "&ending_before=" + "f" * 24) == []


def test_the_client_meets_a_dropped_cursor_as_stale(running: tuple[str, SandboxState, Clock]) -> None:
    url, state, clock = running
    state.update("users", state.people("student", 1)[0]["id"], {"email": "a@example.org"})
    client = client_of(url)
    cursor = client.latest_event_id()
    assert cursor is not None and list(client.events(starting_after=cursor)) == []
    clock.advance(31 * DAY)
    state.update("users", state.people("student", 2)[1]["id"], {"email": "b@example.org"})
    with pytest.raises(StaleCursorError):  # /v3.0/events/<cursor> is 404 first
        list(client.events(starting_after=cursor))
    with pytest.raises(StaleCursorError):
        list(client.events(starting_after="0" * 24))


def test_a_cursor_dropped_between_the_check_and_the_page_is_stale_too(
    running: tuple[str, SandboxState, Clock],
) -> None:
    """The client checks ``/events/<cursor>``, then the event expires before it reads the page."""
    url, state, clock = running
    state.update("users", state.people("student", 1)[0]["id"], {"email": "a@example.org"})
    clock.advance(30 * DAY - 5)
    state.update("users", state.people("student", 2)[1]["id"], {"email": "b@example.org"})
    client = client_of(url)
    cursor = event_ids(url, state)[0]
    seen: list[str] = []
    api = client.users_api()  # events are read from the version of the user calls (v3.1 here)

    def expire_after_the_check(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append(f"{response.status_code} {response.request.path_url}")
        if response.request.path_url == f"{api}/events/{cursor}":
            clock.advance(10)  # the cursor's event turns 30 days old right after the client looked

    client.http.session.hooks["response"].append(expire_after_the_check)
    with pytest.raises(StaleCursorError):
        list(client.events(starting_after=cursor))
    assert seen[-2].startswith(f"200 {api}/events/{cursor}")
    assert seen[-1].startswith(f"404 {api}/events?") and f"starting_after={cursor}" in seen[-1]
