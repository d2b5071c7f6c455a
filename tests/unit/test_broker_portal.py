"""The sidecar's /clever/login: a state-less Clever arrival becomes Keycloak's own broker login."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.sso.portal import broker_login_url, broker_redirect_uri, portal_redirect_uri
from plugin.sso.portal_flow import PORTAL_CLIENT_ID, desired_portal_client

ENV = {
    "KCC_KEYCLOAK_URL": "https://id.example.org",
    "KCC_KEYCLOAK_ADMIN_USER": "admin",
    "KCC_KEYCLOAK_ADMIN_PASSWORD": "x",
    "KCC_REALM": "school",
    "KCC_REDIS_URL": "redis://127.0.0.1:1/0",
    "KCC_LDAP_URL": "ldap://127.0.0.1:1",
    "KCC_LDAP_BIND_DN": "cn=admin,dc=example,dc=org",
    "KCC_LDAP_BIND_PASSWORD": "x",
    "KCC_LDAP_BASE_DN": "dc=example,dc=org",
    "KCC_PUBLIC_URL": "https://sidecar.example.org",
    "KCC_SECRET_KEY": secrets.token_hex(32),
}


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(ENV)


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def test_a_portal_arrival_goes_to_keycloak_with_the_clever_hint(client: FlaskClient) -> None:
    response = client.get("/clever/login?code=abc123")

    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        "https://id.example.org/realms/school/protocol/openid-connect/auth"
    )
    query = parse_qs(target.query)
    assert query["kc_idp_hint"] == ["clever"]
    assert query["client_id"] == [PORTAL_CLIENT_ID]  # its browser flow has no Cookie step
    assert query["redirect_uri"] == ["https://sidecar.example.org/clever/signed-in"]
    assert query["max_age"] == ["0"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert "abc123" not in response.headers["Location"]  # the state-less code is never passed on
    assert response.headers["Cache-Control"] == "no-store"


def test_a_refusal_from_clever_is_shown_not_forwarded(client: FlaskClient) -> None:
    response = client.get("/clever/login?error=access_denied&error_description=<b>no</b>")

    assert response.status_code == 400
    assert b"&lt;b&gt;no&lt;/b&gt;" in response.data
    assert b"kc_idp_hint=clever" in response.data


def test_the_redirect_uris_an_admin_enters_in_clever(settings: Settings) -> None:
    assert portal_redirect_uri(settings) == "https://sidecar.example.org/clever/login"
    assert broker_redirect_uri(settings) == "https://id.example.org/realms/school/broker/clever/endpoint"


def test_unknown_people_are_refused_unless_the_setting_says_create() -> None:
    assert Settings.from_env(ENV).clever.create_unknown_users is False
    env = {**ENV, "KCC_CLEVER_CREATE_UNKNOWN_USERS": "true"}
    assert Settings.from_env(env).clever.create_unknown_users is True


def test_each_portal_login_has_a_challenge_of_its_own(settings: Settings) -> None:
    challenges = {parse_qs(urlsplit(broker_login_url(settings)).query)["code_challenge"][0] for _ in range(3)}

    assert len(challenges) == 3


def test_the_portal_client_lands_only_on_the_account_console_through_its_own_flow() -> None:
    client = desired_portal_client("school", "flow-id", "https://sidecar.example.org/")

    assert client["redirectUris"] == ["https://sidecar.example.org/clever/signed-in"]
    assert client["rootUrl"] == "${authBaseUrl}"
    assert client["authenticationFlowBindingOverrides"] == {"browser": "flow-id"}
    assert client["publicClient"] and client["standardFlowEnabled"]
    assert not (client["directAccessGrantsEnabled"] or client["serviceAccountsEnabled"])
    assert not (client["implicitFlowEnabled"] or client["webOrigins"])
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
