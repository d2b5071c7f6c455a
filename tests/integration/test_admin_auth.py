"""The admin page's sign-in on the real Keycloak: who gets in, who gets 403, anonymous refused, CSRF.

Also home of the helpers the browser journey reuses: ``admin_settings`` (Settings with a secret key
and a public URL), ``make_user`` (a realm user with roles) and ``keycloak_sign_in`` (the login form
posted with requests, for tests that need no browser).
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from redis import Redis

from connectors.keycloak import admin_client
from plugin.admin.auth import API_CLIENT_ID, CLIENT_ID, ensure_admin_client
from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings

pytestmark = pytest.mark.integration
PASSWORD = "Correct-Horse-7"
SECRET_KEY = secrets.token_hex(32)


ADMIN_REDIS_DB = 13  # not 9 (the shared fixture's) nor 12 (bench/): other sessions flush those


def admin_settings(settings: Settings, public_url: str = "http://admin.test") -> Settings:
    """Settings with a secret key, the page's public URL and a Redis db of the admin tests' own."""
    redis_url = settings.redis_url.rsplit("/", 1)[0] + f"/{ADMIN_REDIS_DB}"
    return replace(settings, secret_key=SECRET_KEY, public_url=public_url, redis_url=redis_url)


def password_token(settings: Settings, username: str, client_id: str = API_CLIENT_ID) -> str:
    """An access token of a test user (password ``PASSWORD``) through the sidecar's script client
    (made in the realm first, as the page makes it), or through ``client_id``."""
    ensure_admin_client(admin_client(settings.keycloak), settings)
    keycloak = settings.keycloak
    answer = requests.post(
        f"{keycloak.url}/realms/{keycloak.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": PASSWORD,
            "scope": "openid",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def admin_redis(settings: Settings) -> Iterator[Redis]:
    """The admin tests' Redis db, emptied before and after."""
    connection = Redis.from_url(admin_settings(settings).redis_url)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def make_user(
    admin: KeycloakAdmin, username: str, client_roles: tuple[str, ...] = (), realm_roles: tuple[str, ...] = ()
) -> str:
    """A realm user with a password and complete profile, holding the given roles."""
    user_id = admin.create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.org",
            "emailVerified": True,
            "firstName": username.title(),
            "lastName": "Tester",
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    if client_roles:
        management = admin.get_client_id("realm-management")
        assert management
        roles = [admin.get_client_role(management, name) for name in client_roles]
        admin.assign_client_role(user_id, management, roles)
    for name in realm_roles:
        admin.create_realm_role({"name": name}, skip_exists=True)
        admin.assign_realm_roles(user_id, [admin.get_realm_role(name)])
    return user_id


def keycloak_sign_in(client: FlaskClient, username: str) -> Any:
    """Sign in through Keycloak's real login form; return the app's answer to the callback."""
    start = client.get(f"{URL_PREFIX}/login")
    assert start.status_code == 302, start.status_code
    browser = requests.Session()
    form_page = browser.get(start.headers["Location"], timeout=10)
    for cookie in browser.cookies:  # Keycloak sets them Secure; requests will not send those over http
        cookie.secure = False
    action = html.unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', form_page.text)[1])  # type: ignore[index]
    answer = browser.post(
        action, data={"username": username, "password": PASSWORD}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    assert back.path == f"{URL_PREFIX}/callback" and "code" in parse_qs(back.query)
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture
def app(settings: Settings, admin_redis: Redis) -> Flask:
    return create_app(admin_settings(settings))


def test_a_realm_admin_signs_in_with_pkce_and_sees_the_page(
    app: Flask, keycloak_admin: KeycloakAdmin
) -> None:
    make_user(keycloak_admin, "it-admin", client_roles=("manage-identity-providers", "manage-users"))
    client = app.test_client()
    first = client.get(f"{URL_PREFIX}/")
    assert first.status_code == 302 and first.headers["Location"].endswith(f"{URL_PREFIX}/login")
    start = client.get(f"{URL_PREFIX}/login")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]
    answer = keycloak_sign_in(client, "it-admin")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    assert "Login with Clever" in page.text and "it-admin" in page.text
    cookie = client.get_cookie("kcc_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    # The page's client is public, PKCE-only, with exactly our redirect URI.
    internal = keycloak_admin.get_client_id(CLIENT_ID)
    assert internal is not None
    held = keycloak_admin.get_client(internal)
    assert held["publicClient"] and not held["directAccessGrantsEnabled"]
    assert held["attributes"]["pkce.code.challenge.method"] == "S256"
    assert held["redirectUris"] == [f"http://admin.test{URL_PREFIX}/callback"]


@pytest.mark.parametrize(
    ("client_roles", "realm_roles"),
    [(("realm-admin",), ()), ((), ("clever-admin",))],
    ids=["realm-admin", "clever-admin"],
)
def test_realm_admin_and_clever_admin_get_in(
    app: Flask, keycloak_admin: KeycloakAdmin, client_roles: tuple[str, ...], realm_roles: tuple[str, ...]
) -> None:
    make_user(keycloak_admin, "someone", client_roles=client_roles, realm_roles=realm_roles)
    client = app.test_client()
    keycloak_sign_in(client, "someone")
    assert client.get(f"{URL_PREFIX}/").status_code == 200


def test_a_signed_in_user_without_the_roles_gets_403(app: Flask, keycloak_admin: KeycloakAdmin) -> None:
    make_user(keycloak_admin, "teacher", client_roles=("manage-users",))  # one of the two is not enough
    client = app.test_client()
    keycloak_sign_in(client, "teacher")
    page = client.get(f"{URL_PREFIX}/")
    assert page.status_code == 403 and "may not manage" in page.text
    assert client.get(f"{URL_PREFIX}/api/status").status_code == 403
    assert client.post(f"{URL_PREFIX}/enabled", data={"enabled": "on"}).status_code == 403


def test_every_route_refuses_an_anonymous_request(app: Flask) -> None:
    client = app.test_client()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("clever_admin.")]
    assert len(rules) >= 20
    for rule in rules:
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method)
            refused = answer.status_code in (400, 401, 403) or (
                answer.status_code == 302
                and (
                    answer.headers["Location"].endswith(f"{URL_PREFIX}/login")
                    or "/protocol/openid-connect/auth" in answer.headers["Location"]
                )
            )
            assert refused, f"{method} {path} answered {answer.status_code} to an anonymous request"


def test_a_post_without_its_csrf_token_is_refused(app: Flask, keycloak_admin: KeycloakAdmin) -> None:
    make_user(keycloak_admin, "it-admin", client_roles=("realm-admin",))
    client = app.test_client()
    keycloak_sign_in(client, "it-admin")
    page = client.get(f"{URL_PREFIX}/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    refused = client.post(f"{URL_PREFIX}/options", data={"sync_parent_data": "on"})
    assert refused.status_code == 400
    wrong = client.post(f"{URL_PREFIX}/options", data={"sync_parent_data": "on", "csrf_token": "x" * 43})
    assert wrong.status_code == 400
    assert client.get(f"{URL_PREFIX}/api/config").json["sync_parent_data"] is False  # type: ignore[index]
    accepted = client.post(f"{URL_PREFIX}/options", data={"sync_parent_data": "on", "csrf_token": token})
    assert accepted.status_code == 302
    assert client.get(f"{URL_PREFIX}/api/config").json["sync_parent_data"] is True  # type: ignore[index]


def test_the_json_api_takes_a_bearer_token_from_the_realm(
    app: Flask, keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    make_user(keycloak_admin, "script-admin", client_roles=("realm-admin",))
    make_user(keycloak_admin, "plain", client_roles=())

    def token(username: str) -> str:
        return password_token(settings, username)

    client = app.test_client()
    ok = client.post(
        f"{URL_PREFIX}/api/options",
        json={"force_unique_class_names": True},
        headers={"Authorization": f"Bearer {token('script-admin')}"},
    )
    assert ok.status_code == 200, ok.json
    config = client.get(
        f"{URL_PREFIX}/api/config", headers={"Authorization": f"Bearer {token('script-admin')}"}
    ).json
    assert config["force_unique_class_names"] is True  # type: ignore[index]
    assert config["use_preferred_names"] is True  # type: ignore[index]  # on by default
    off = client.post(
        f"{URL_PREFIX}/api/options",
        json={"use_preferred_names": False},
        headers={"Authorization": f"Bearer {token('script-admin')}"},
    )
    assert off.status_code == 200, off.json
    config = client.get(
        f"{URL_PREFIX}/api/config", headers={"Authorization": f"Bearer {token('script-admin')}"}
    ).json
    assert config["use_preferred_names"] is False and config["force_unique_class_names"] is True  # type: ignore[index]
    assert (
        client.get(
            f"{URL_PREFIX}/api/config", headers={"Authorization": f"Bearer {token('plain')}"}
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"{URL_PREFIX}/api/config", headers={"Authorization": f"Bearer {uuid.uuid4().hex}"}
        ).status_code
        == 401
    )
    assert client.get(f"{URL_PREFIX}/api/config").status_code == 401
