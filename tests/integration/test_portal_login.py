"""Portal logins over plain HTTP, timed to the second: the browser's earlier session is never continued.

Keycloak's ``max_age`` check is in whole seconds (``authTime + maxAge < now``, strictly), so with
``max_age=0`` alone a session authenticated in the same second as the portal click was continued: the
previous person stayed signed in. Here the first student's sign-in is timed to finish just after a
second turns and the second student's portal click follows at once, in the same second (checked from
the hops' clocks; tried again when the machine was too slow). The portal's own flow has no Cookie
step, so Keycloak must send the browser to Clever every time, whatever the clock says.

A ``requests.Session`` is the browser. Keycloak sets its cookies ``Secure``; Chromium sends those to
``http://127.0.0.1`` (a loopback origin counts as secure there), requests does not, so the flag is
dropped from every cookie the jar keeps.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin

import pytest
import requests

from model.state import IDP_ALIAS
from plugin.sso.portal_flow import PORTAL_CLIENT_ID
from tests.browser_fixtures import CleverWorld

pytestmark = pytest.mark.integration

REDIRECTS = (301, 302, 303, 307, 308)
TRIES = 6  # a try counts when both logins fell in one second; more than one failing to is rare


@dataclass(frozen=True)
class Hop:
    """One request of the browser, with the wall clock before and after it."""

    url: str
    status: int
    started: float
    ended: float


@dataclass
class Browser:
    """A cookie jar that follows redirects by hand, keeping every hop."""

    session: requests.Session = field(default_factory=requests.Session)
    hops: list[Hop] = field(default_factory=list)

    def go(self, url: str, *, stop_at: str = "") -> tuple[str, requests.Response | None]:
        """Follow redirects from ``url``; stop before requesting a URL that starts with ``stop_at``.
        Returns the last URL and its answer (None when stopped before it)."""
        for _ in range(20):
            if stop_at and url.startswith(stop_at):
                return url, None
            started = time.time()
            answer = self.session.get(url, allow_redirects=False, timeout=30)
            self.hops.append(Hop(url, answer.status_code, started, time.time()))
            for cookie in self.session.cookies:
                cookie.secure = False
            if answer.status_code not in REDIRECTS:
                return url, answer
            url = urljoin(url, answer.headers["Location"])
        raise AssertionError(f"more than 20 redirects: {[h.url for h in self.hops[-20:]]}")

    def went_to(self, prefix: str) -> list[Hop]:
        """The hops whose URL starts with ``prefix``."""
        return [hop for hop in self.hops if hop.url.startswith(prefix)]


def instant_login(world: CleverWorld, clever_id: str) -> str:
    """The Clever portal's Instant Login link of a person (the sandbox's ``#instant-login-<id>``)."""
    query = urlencode(
        {"client_id": "sandbox-client", "district_id": world.sandbox.district_id, "user_id": clever_id}
    )
    return f"{world.sandbox_url}/oauth/instant-login?{query}"


def sign_in_at_a_turn_of_the_second(browser: Browser, world: CleverWorld, clever_id: str) -> float:
    """A portal login of ``clever_id`` whose last hop to Keycloak (the broker endpoint, where its
    ``auth_time`` is set) starts just after a second turns; ends on the Account Console. Returns the
    time that hop started."""
    endpoint = f"{world.realm_url}/broker/clever/endpoint"
    url, _ = browser.go(instant_login(world, clever_id), stop_at=endpoint)
    time.sleep(1.02 - time.time() % 1)
    started = time.time()
    landed, answer = browser.go(url)
    assert landed.startswith(world.account_url) and answer is not None and answer.status_code == 200
    assert "KEYCLOAK_IDENTITY" in browser.session.cookies  # the session a shared device keeps
    return started


def test_a_portal_click_in_the_same_second_as_the_last_login_never_continues_it(
    clever_world: CleverWorld,
) -> None:
    first, second = clever_world.person("student", 2), clever_world.person("student", 3)
    first_id, second_id = clever_world.prelink(first), clever_world.prelink(second)
    first_username = clever_world.admin.get_user(first_id)["username"]
    auth = f"{clever_world.realm_url}/protocol/openid-connect/auth"
    same_second = 0
    for _ in range(TRIES):
        browser = Browser()
        signed_in_at = sign_in_at_a_turn_of_the_second(browser, clever_world, first["id"])
        already = len(browser.hops)

        landed, answer = browser.go(instant_login(clever_world, second["id"]))

        click = browser.hops[already:]
        (portal_auth,) = [h for h in click if h.url.startswith(auth)]
        same_second += int(signed_in_at) == int(portal_auth.ended)
        # Keycloak did not answer from the first student's session (straight back to the Account
        # Console with a code); it asked Clever (silent: the portal click signed the browser in to
        # Clever as the second student) ...
        assert not [h for h in click if h.url.startswith(clever_world.account_url)], [h.url for h in click]
        assert [h for h in click if h.url.startswith(f"{clever_world.sandbox_url}/oauth/authorize")]
        # ... and then refused to put the second student into the first's session, naming nobody
        # (the realm's ``clever`` login theme).
        assert landed.startswith(f"{clever_world.realm_url}/broker/clever/endpoint")
        assert answer is not None and answer.status_code == 400
        assert "Someone else is still signed in" in html.unescape(answer.text)
        assert first_username not in html.unescape(answer.text)
        assert clever_world.sessions(first_id) and not clever_world.sessions(second_id)
        assert f"client_id={PORTAL_CLIENT_ID}" in portal_auth.url
        if same_second >= 2:
            break
    assert same_second, f"no try fell within one second in {TRIES}: the machine is too slow to tell"


def test_a_portal_login_without_an_earlier_session_ends_on_the_account_console(
    clever_world: CleverWorld,
) -> None:
    student = clever_world.person("student", 4)
    keycloak_id = clever_world.prelink(student)
    browser = Browser()

    landed, answer = browser.go(instant_login(clever_world, student["id"]))

    assert landed.startswith(clever_world.account_url) and answer is not None and answer.status_code == 200
    assert clever_world.sessions(keycloak_id)
    (portal_auth,) = browser.went_to(f"{clever_world.realm_url}/protocol/openid-connect/auth")
    assert f"client_id={PORTAL_CLIENT_ID}" in portal_auth.url


def test_with_clever_disabled_a_portal_login_fails_instead_of_continuing_a_session(
    clever_world: CleverWorld,
) -> None:
    """The redirect is REQUIRED: when it cannot go to Clever the flow fails, it never falls through."""
    student = clever_world.person("student", 5)
    clever_world.prelink(student)
    browser = Browser()
    browser.go(instant_login(clever_world, student["id"]))  # a session in this browser
    idp = clever_world.admin.get_idp(IDP_ALIAS)
    clever_world.admin.update_idp(IDP_ALIAS, {**idp, "enabled": False})  # the admin page's Enabled: off
    already = len(browser.hops)

    landed, answer = browser.go(instant_login(clever_world, student["id"]))

    assert landed.startswith(f"{clever_world.realm_url}/protocol/openid-connect/auth")
    assert answer is not None and answer.status_code == 400
    assert "Invalid username or password." in answer.text  # Keycloak's words for a flow that failed
    assert not [h for h in browser.hops[already:] if h.url.startswith(clever_world.account_url)]
