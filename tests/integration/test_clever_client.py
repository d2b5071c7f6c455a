"""CleverClient against the sandbox over HTTP: request counts, paging, faults, rate limit, events, OAuth."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from connectors.clever import CleverClient, OAuthError, StaleCursorError
from model.base import ConfigError, RecordError, TransientError
from model.config import CleverSettings
from model.records import Role, Section, User
from sandbox.app import create_app
from sandbox.config import Clock, SandboxConfig
from sandbox.server import serve

pytestmark = pytest.mark.integration

CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"
KINDS = ("districts", "schools", "users", "sections", "terms", "courses")
BIG = 20_000


@dataclass
class Sandbox:
    url: str
    state: Any  # sandbox.state.SandboxState

    def client(self, *, secret: str = CLIENT_SECRET, district_id: str = "", **kwargs: Any) -> CleverClient:
        settings = CleverSettings(
            oauth_url=self.url,
            api_url=self.url,
            client_id=CLIENT_ID,
            client_secret=secret,
            district_id=district_id,
        )
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("max_backoff", 0.2)
        return CleverClient(settings, **kwargs)

    def ids(self, kind: str) -> list[str]:
        """The sandbox's own truth: every id of a kind, ascending."""
        return sorted(self.state.store.raw[kind])


@contextmanager
def sandbox(**config: Any) -> Iterator[Sandbox]:
    app = create_app(SandboxConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **config))
    with serve(app) as base_url:
        yield Sandbox(base_url.rstrip("/"), app.extensions["clever_sandbox"])


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    with sandbox(size=BIG, seed=3) as running:
        yield running


@pytest.fixture
def small() -> Iterator[Sandbox]:
    with sandbox(size=60, seed=5) as running:
        yield running


def _read_all(client: CleverClient) -> dict[str, list[str]]:
    roster = client.roster()
    streams: dict[str, Iterable[Any]] = {
        "districts": roster.client.districts(),
        "schools": roster.schools(),
        "users": roster.users(),
        "sections": roster.sections(),
        "terms": roster.terms(),
        "courses": roster.courses(),
    }
    return {kind: [r.clever_id for r in stream] for kind, stream in streams.items()}


def test_a_20k_district_takes_ceil_n_over_10000_requests_per_collection(big: Sandbox) -> None:
    client = big.client()
    started = time.perf_counter()
    roster = client.roster()
    constant = client.requests_made  # token look-up + newest event id
    assert constant <= 3
    for kind in KINDS:
        before = client.requests_made
        ids = [r.clever_id for r in getattr(client, kind)()]
        assert ids == big.ids(kind), kind
        assert client.requests_made - before == max(1, math.ceil(len(ids) / 10000)), kind
    before = client.requests_made
    students = [u.clever_id for u in roster.users(Role.STUDENT)]
    assert len(students) == BIG
    assert client.requests_made - before == math.ceil(BIG / 10000)  # 2: no empty third page
    elapsed = time.perf_counter() - started
    print(f"\n20k-student district read in {elapsed:.1f}s with {client.requests_made} requests")
    assert client.bad_records == []


def test_users_come_out_as_records_with_roles(big: Sandbox) -> None:
    client = big.client()
    teachers = list(client.users(role="teacher"))
    assert teachers and all(isinstance(t, User) and t.has(Role.TEACHER) for t in teachers)
    contacts = client.users(role=Role.CONTACT)
    assert any(c.student_relationships for c in contacts)
    section = next(client.sections())
    assert isinstance(section, Section) and section.school


def test_paging_one_item_per_page(small: Sandbox) -> None:
    client = small.client(page_size=1)
    client.token_for(client.district_id())  # token look-up outside the count
    before = client.requests_made
    schools = [s.clever_id for s in client.schools()]
    assert schools == small.ids("schools")
    assert client.requests_made - before == len(schools)  # no trailing empty page


def test_paging_exactly_one_page_and_page_boundaries(small: Sandbox) -> None:
    n = len(small.ids("users"))
    for page_size in (n, n - 1, n + 1, 7):
        client = small.client(page_size=page_size)
        client.token_for(client.district_id())  # token look-up outside the count
        before = client.requests_made
        assert [u.clever_id for u in client.users()] == small.ids("users")
        assert client.requests_made - before == math.ceil(n / page_size), page_size


def test_an_empty_collection_is_one_request(small: Sandbox) -> None:
    client = small.client()
    assert client.latest_event_id() is None  # no changes yet: an empty feed
    client.users_api()  # asked once per client (may it read /v3.1?); events use that version
    before = client.requests_made
    assert list(client.events()) == []
    assert client.requests_made - before == 1


def test_faults_and_429_bursts_still_read_everything_exactly_once() -> None:
    faults = "error_rate=0.05,burst429=0.03,burst_len=3,truncate=0.02,drop=0.02,seed=11"
    clock = Clock()
    with sandbox(size=3000, seed=4, faults=faults, clock=clock) as running:
        # A 429 burst lasts until its window ends: waiting moves the sandbox's clock, not the test's.
        client = running.client(page_size=200, max_retries=10, sleep=clock.advance)
        read = _read_all(client)
        assert client.http.retries > 0  # the faults did happen
        # Several were 429 bursts, each waited out to its window's end on the sandbox's clock (a
        # client ignoring X-RateLimit-Reset would only back off for fractions of a second).
        assert clock() - time.time() > 60
        for kind, ids in read.items():
            assert len(ids) == len(set(ids)), f"duplicates in {kind}"
            assert ids == running.ids(kind), kind


def test_the_rate_limit_headers_make_the_client_wait_instead_of_429() -> None:
    clock = Clock()
    with sandbox(size=40, seed=2, rate_limit=5, clock=clock) as running:
        # Waiting moves the sandbox's clock instead of the test's wall clock.
        client = running.client(page_size=3, sleep=clock.advance, max_retries=0)
        users = [u.clever_id for u in client.users()]
        assert users == running.ids("users")
        assert client.http.waited_for_rate_limit > 0
        assert client.http.retries == 0  # never a 429


def test_events_after_changes(small: Sandbox) -> None:
    client = small.client()
    roster = client.roster()
    assert roster.event_cursor is None
    student = small.state.people("student", 1)[0]
    section = small.ids("sections")[0]
    small.state.update("users", student["id"], {"name": {"first": "Zoë"}})
    small.state.update("sections", section, {"name": "Renamed"})
    events = list(client.events(starting_after=roster.event_cursor))
    assert [e.type for e in events] == ["users.updated", "sections.updated"]
    assert isinstance(events[0].record, User) and events[0].record.first_name == "Zoë"
    assert "name" in events[0].previous_attributes
    assert isinstance(events[1].record, Section) and events[1].record.name == "Renamed"

    cursor = client.latest_event_id()
    assert cursor == events[-1].event_id
    assert list(client.events(starting_after=cursor)) == []
    small.state.delete("sections", section)
    only_sections = list(client.events(starting_after=cursor, record_types=["sections"]))
    assert [e.type for e in only_sections] == ["sections.deleted"]
    assert client.roster().event_cursor == only_sections[-1].event_id


def test_an_unknown_or_expired_cursor_is_a_stale_cursor_error() -> None:
    clock = Clock()
    with sandbox(size=30, seed=6, clock=clock) as running:
        client = running.client()
        with pytest.raises(StaleCursorError):
            list(client.events(starting_after="0" * 24))
        running.state.update("users", running.ids("users")[0], {"email": "changed@example.org"})
        cursor = client.latest_event_id()
        assert cursor is not None and list(client.events(starting_after=cursor)) == []
        clock.advance(31 * 24 * 3600)  # past Clever's 30-day window
        with pytest.raises(StaleCursorError):
            list(client.events(starting_after=cursor))


def test_single_objects_and_unknown_ids(small: Sandbox) -> None:
    client = small.client()
    uid = small.ids("users")[0]
    user = client.user(uid)
    assert user is not None and user.clever_id == uid
    assert client.user("0" * 24) is None
    district = client.district(small.state.district_id)
    assert district is not None and district.name


def test_wrong_credentials_and_unknown_district_are_config_errors(small: Sandbox) -> None:
    with pytest.raises(ConfigError):
        small.client(secret="wrong").district_id()
    with pytest.raises(ConfigError):
        list(small.client(district_id="f" * 24).schools())


def test_login_with_clever_code_exchange_and_me(small: Sandbox) -> None:
    client = small.client()
    redirect = "http://127.0.0.1:18000/admin/clever/callback"
    url = client.authorize_url(redirect, state="s-1", district_id=small.state.district_id)
    assert url.startswith(f"{small.url}/oauth/authorize?") and "state=s-1" in url
    assert "s-1" in requests.get(url, timeout=10).text  # the sandbox's login page carries the state
    admin = small.state.people("district_admin", 1)[0]
    # What the login page's form posts when the tester picks the district admin.
    form = dict(parse_qsl(urlsplit(url).query)) | {"user_id": admin["id"]}
    answer = requests.post(f"{small.url}/oauth/authorize", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(redirect)
    back = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert back["state"] == "s-1"
    code = back["code"]
    tokens = client.exchange_code(code, redirect)
    assert tokens.access_token and tokens.access_token not in repr(tokens)
    me = client.me(tokens.access_token)
    assert (me.user_id, me.district) == (admin["id"], small.state.district_id)
    myself = client.user(admin["id"], token=tokens.access_token)
    assert myself is not None and myself.has(Role.DISTRICT_ADMIN)
    with pytest.raises(OAuthError) as replay:
        client.exchange_code(code, redirect)
    assert replay.value.error == "invalid_grant"


def test_a_roster_limited_to_some_schools(small: Sandbox) -> None:
    school = small.ids("schools")[0]
    roster = small.client().roster(school_ids=(school,))
    assert [s.clever_id for s in roster.schools()] == [school]
    users = list(roster.users())
    assert users and all(school in u.schools or not u.schools for u in users)
    assert any(u.has(Role.CONTACT) for u in users)  # contacts have no school: they always pass
    everyone = {u.clever_id for u in small.client().users() if school in u.schools}
    assert everyone <= {u.clever_id for u in users}
    sections = list(roster.sections())
    assert sections and {s.school for s in sections} == {school}
    assert roster.district() is not None and roster.bad_records == []


def test_a_bad_record_is_reported_and_the_stream_goes_on(small: Sandbox) -> None:
    uids = small.ids("users")
    bad = uids[len(uids) // 2]
    # The sandbox validates what it is given, so the broken record is put straight into its store.
    small.state.store.raw["users"][bad] = json.dumps({"id": bad, "roles": ["student"]})
    reported: list[RecordError] = []
    client = small.client(on_bad_record=reported.append, page_size=7)
    assert [u.clever_id for u in client.users()] == [u for u in uids if u != bad]
    assert [(e.kind, e.clever_id) for e in reported] == [("users", bad)]
    default = small.client()
    assert len(list(default.users())) == len(uids) - 1
    assert [e.clever_id for e in default.bad_records] == [bad]


def test_retries_are_bounded_then_transient_error() -> None:
    with sandbox(size=20, seed=8, faults="latency_ms=400,seed=1") as running:
        client = running.client(timeout=(2.0, 0.1), max_retries=2)
        client.token_for(client.district_id())
        before = client.requests_made
        with pytest.raises(TransientError, match="gave up after 3 tries"):
            list(client.schools())
        assert client.requests_made - before == 3
