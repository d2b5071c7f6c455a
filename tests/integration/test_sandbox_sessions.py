"""Clever's browser session over HTTP: a signed-in browser's next ``/oauth/authorize`` is silent.

Each test's ``requests.Session`` is one browser (its cookie jar); a fresh one has no cookie and meets
the picker, as a fresh Playwright context does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.sessions import COOKIE
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration
REDIRECT = "http://app.example.test/callback"
BROKER = "http://keycloak.example.test/realms/r/broker/clever/endpoint"
CREDENTIALS = ("sandbox-client", "sandbox-secret")


@pytest.fixture
def running() -> Iterator[tuple[str, SandboxState]]:
    app = create_app(SandboxConfig(size=30, seed=12, redirect_uris=[REDIRECT, BROKER]))
    with serve(app) as url:
        yield url, app.extensions["clever_sandbox"]


def authorize(browser: requests.Session, url: str, **params: str) -> requests.Response:
    query = {"client_id": "sandbox-client", "redirect_uri": BROKER, "response_type": "code", **params}
    return browser.get(f"{url}/oauth/authorize?{urlencode(query)}", allow_redirects=False, timeout=10)


def pick(browser: requests.Session, page: requests.Response, **choice: str) -> requests.Response:
    """Submit the login page's form as a tester would: its hidden fields plus the choice."""
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    return browser.post(page.url.split("?")[0], data={**form, **choice}, allow_redirects=False, timeout=10)


def back(answer: requests.Response, to: str = BROKER) -> dict[str, str]:
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["Location"]
    assert location.startswith(to + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def signed_in_as(url: str, code: str, redirect_uri: str = BROKER) -> str:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    tokens = requests.post(f"{url}/oauth/tokens", data=data, auth=CREDENTIALS, timeout=10).json()
    return str(jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"])


def is_picker(answer: requests.Response) -> bool:
    return answer.status_code == 200 and 'id="login-form"' in answer.text and 'id="user_id"' in answer.text


def test_a_second_authorize_from_the_same_browser_is_silent(running: tuple[str, SandboxState]) -> None:
    url, state = running
    teacher = state.people("teacher", 1)[0]["id"]
    browser = requests.Session()
    page = authorize(browser, url, state="first")
    assert is_picker(page) and 'id="signed-in"' not in page.text
    first = back(pick(browser, page, login_as=teacher))
    assert first["state"] == "first" and signed_in_as(url, first["code"]) == teacher
    cookie = next(c for c in browser.cookies if c.name == COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"

    again = back(authorize(browser, url, state="second", nonce="n-2"))  # no page: straight back
    assert again["state"] == "second" and again["code"] != first["code"]
    data = {"grant_type": "authorization_code", "code": again["code"], "redirect_uri": BROKER}
    tokens = requests.post(f"{url}/oauth/tokens", data=data, auth=CREDENTIALS, timeout=10).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["sub"] == teacher and claims["nonce"] == "n-2"

    assert is_picker(authorize(requests.Session(), url))  # another browser has no session


def test_prompt_login_and_logout_show_the_picker_again(running: tuple[str, SandboxState]) -> None:
    url, state = running
    first, second = (s["id"] for s in state.people("student", 2))
    browser = requests.Session()
    back(pick(browser, authorize(browser, url), login_as=first))

    forced = authorize(browser, url, prompt="login", state="s")
    assert is_picker(forced) and 'id="signed-in"' in forced.text
    switched = back(pick(browser, forced, login_as=second))  # signing in again replaces the session
    assert switched["state"] == "s" and signed_in_as(url, switched["code"]) == second
    assert signed_in_as(url, back(authorize(browser, url))["code"]) == second

    logout = re.search(r'id="logout" href="([^"]+)"', authorize(browser, url, prompt="login").text)
    assert logout is not None
    followed = browser.get(url + logout.group(1).replace("&amp;", "&"), timeout=10)
    assert is_picker(followed) and 'id="signed-in"' not in followed.text  # back on the login page
    assert is_picker(authorize(browser, url))

    back(pick(browser, authorize(browser, url), login_as=first))
    signed_out = browser.get(f"{url}/logout", timeout=10)
    assert signed_out.status_code == 200 and 'id="signed-out"' in signed_out.text
    assert is_picker(authorize(browser, url))
    assert browser.get(f"{url}/logout?next=https://evil.example/", allow_redirects=False).status_code == 200


def test_a_portal_instant_login_signs_the_browser_in_for_the_broker_hop(
    running: tuple[str, SandboxState],
) -> None:
    """Portal -> the app's first redirect URI without state -> the app's broker asks again: silent."""
    url, state = running
    admin = state.people("district_admin", 1)[0]["id"]
    browser = requests.Session()
    portal = browser.get(f"{url}/portal", timeout=10).text
    link = re.search(rf'id="instant-login-{admin}"[^>]*href="([^"]+)"', portal)
    assert link is not None and 'id="signed-in"' not in portal
    landed = back(browser.get(url + link.group(1).replace("&amp;", "&"), allow_redirects=False), REDIRECT)
    assert set(landed) == {"code"}
    hop = back(authorize(browser, url, state="kc-state", nonce="kc-nonce"))
    assert hop["state"] == "kc-state" and signed_in_as(url, hop["code"]) == admin
    assert 'id="signed-in"' in browser.get(f"{url}/portal", timeout=10).text


def test_a_badge_signs_in_and_a_removed_person_is_signed_out(running: tuple[str, SandboxState]) -> None:
    url, state = running
    student = state.people("student", 3)[2]["id"]
    browser = requests.Session()
    back(pick(browser, authorize(browser, url), badge_code=state.badge_code(student)))
    assert signed_in_as(url, back(authorize(browser, url))["code"]) == student
    state.delete("users", student)
    assert is_picker(authorize(browser, url))


def test_prompt_none_without_a_session_goes_back_with_login_required(
    running: tuple[str, SandboxState],
) -> None:
    url, state = running
    browser = requests.Session()
    assert back(authorize(browser, url, prompt="none", state="q")) == {
        "error": "login_required",
        "state": "q",
    }
    back(pick(browser, authorize(browser, url), login_as=state.people("staff", 1)[0]["id"]))
    assert "code" in back(authorize(browser, url, prompt="none"))
    state.sign_out()  # every session ends, e.g. the sandbox's sessions were cleared
    assert is_picker(authorize(browser, url))
