"""OIDC against the sandbox over HTTP with Authlib as the client: discovery, state, nonce, signature."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration
REDIRECT = "http://app.example.test/oidc/callback"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[str, SandboxState]]:
    app = create_app(
        SandboxConfig(size=40, seed=9, redirect_uris=[REDIRECT, "http://app.example.test/other"])
    )
    with serve(app) as url:
        yield url, app.extensions["clever_sandbox"]


def discover(url: str) -> dict[str, Any]:
    doc: dict[str, Any] = requests.get(f"{url}/.well-known/openid-configuration", timeout=10).json()
    return doc


def browser_login(authorize_url: str, person: str) -> str:
    """What a tester does on the login page: press the person's button; returns the redirect."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200
    form = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text.split("</form>")[0])
    )
    assert f'id="login-{person}"' in page.text
    answer = requests.post(
        page.url.split("?")[0], data={**form, "login_as": person}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def verify(url: str, id_token: str, nonce: str) -> CodeIDToken:
    doc = discover(url)
    keys = KeySet.import_key_set(requests.get(doc["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])  # raises on a bad signature
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={"iss": {"essential": True, "value": doc["issuer"]}},
        params={"nonce": nonce, "client_id": "sandbox-client"},
    )
    claims.validate()  # iss, aud, exp, iat, nonce
    return claims


def test_authlib_runs_the_whole_code_flow(running: tuple[str, SandboxState]) -> None:
    url, state = running
    doc = discover(url)
    assert doc["issuer"] == url and doc["jwks_uri"] == f"{url}/oauth/certs"
    session = OAuth2Session("sandbox-client", "sandbox-secret", redirect_uri=REDIRECT, scope="openid")
    nonce = generate_token(20)
    authorize_url, sent_state = session.create_authorization_url(doc["authorization_endpoint"], nonce=nonce)
    teacher = state.people("teacher", 1)[0]
    callback = browser_login(authorize_url, teacher["id"])
    token = session.fetch_token(doc["token_endpoint"], authorization_response=callback, state=sent_state)
    claims = verify(url, token["id_token"], nonce)
    assert claims["sub"] == teacher["id"] and claims["user_type"] == "teacher"
    assert claims["given_name"] == teacher["name"]["first"] and claims["email_verified"] is False
    info = session.get(doc["userinfo_endpoint"]).json()
    assert info["sub"] == teacher["id"] and info["district"] == state.district_id


def test_a_wrong_nonce_or_signature_or_state_is_caught(running: tuple[str, SandboxState]) -> None:
    url, state = running
    doc = discover(url)
    session = OAuth2Session("sandbox-client", "sandbox-secret", redirect_uri=REDIRECT)
    authorize_url, sent_state = session.create_authorization_url(doc["authorization_endpoint"], nonce="right")
    callback = browser_login(authorize_url, state.people("student", 1)[0]["id"])
    assert parse_qs(urlsplit(callback).query)["state"] == [sent_state]
    with pytest.raises(MismatchingStateException):
        session.fetch_token(doc["token_endpoint"], authorization_response=callback, state="forged")
    token = session.fetch_token(doc["token_endpoint"], authorization_response=callback, state=sent_state)
    with pytest.raises(Exception, match="nonce"):
        verify(url, token["id_token"], "wrong")
    head, body, signature = token["id_token"].split(".")
    tampered = f"{head}.{body}.{signature[:-6]}AAAAAA"
    with pytest.raises(Exception, match="signature"):
        verify(url, tampered, "right")


def test_a_replayed_code_is_refused_to_authlib(running: tuple[str, SandboxState]) -> None:
    url, state = running
    doc = discover(url)
    session = OAuth2Session("sandbox-client", "sandbox-secret", redirect_uri=REDIRECT)
    authorize_url, sent_state = session.create_authorization_url(doc["authorization_endpoint"], nonce="n")
    callback = browser_login(authorize_url, state.people("contact", 1)[0]["id"])
    session.fetch_token(doc["token_endpoint"], authorization_response=callback, state=sent_state)
    with pytest.raises(OAuthError, match="invalid_grant"):
        session.fetch_token(doc["token_endpoint"], authorization_response=callback, state=sent_state)


def test_portal_login_goes_to_the_first_redirect_uri(running: tuple[str, SandboxState]) -> None:
    url, state = running
    admin = state.people("district_admin", 1)[0]["id"]
    portal = requests.get(f"{url}/portal", timeout=10).text
    link = re.search(rf'id="instant-login-{admin}"[^>]*href="([^"]+)"', portal)
    assert link is not None
    answer = requests.get(url + link.group(1).replace("&amp;", "&"), allow_redirects=False, timeout=10)
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?") and set(parse_qs(urlsplit(location).query)) == {"code"}


def test_pkce_s256_through_authlib_and_a_missing_or_wrong_verifier_is_refused(
    running: tuple[str, SandboxState],
) -> None:
    url, state = running
    doc = discover(url)
    assert doc["code_challenge_methods_supported"] == ["S256", "plain"]
    student = state.people("student", 1)[0]["id"]

    def login_with_pkce(verifier: str) -> tuple[OAuth2Session, str, str]:
        session = OAuth2Session(
            "sandbox-client", "sandbox-secret", redirect_uri=REDIRECT, code_challenge_method="S256"
        )
        authorize_url, sent_state = session.create_authorization_url(
            doc["authorization_endpoint"], nonce="n", code_verifier=verifier
        )
        assert "code_challenge=" in authorize_url and "code_challenge_method=S256" in authorize_url
        return session, browser_login(authorize_url, student), sent_state

    verifier = generate_token(48)
    session, callback, sent_state = login_with_pkce(verifier)
    token = session.fetch_token(
        doc["token_endpoint"], authorization_response=callback, state=sent_state, code_verifier=verifier
    )
    assert verify(url, token["id_token"], "n")["sub"] == student

    session, callback, sent_state = login_with_pkce(generate_token(48))
    with pytest.raises(OAuthError, match="invalid_grant"):  # the client forgot its verifier
        session.fetch_token(doc["token_endpoint"], authorization_response=callback, state=sent_state)
    session, callback, sent_state = login_with_pkce(generate_token(48))
    with pytest.raises(OAuthError, match="invalid_grant"):
        session.fetch_token(
            doc["token_endpoint"],
            authorization_response=callback,
            state=sent_state,
            code_verifier=generate_token(48),
        )
