"""Admin sessions are revocable and the API takes only our clients' tokens (real Keycloak, Redis).

Sign out makes the cookie worthless; a Keycloak session ended in the console, a disabled user or a
removed role loses access at the first request after the re-check interval; sessions end 8 hours
after sign-in; a token of another client of the realm is refused; a token's answer is cached for a
few seconds only.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from redis import Redis

from plugin.admin.auth import BEARER_CACHE_S
from plugin.admin.blueprint import URL_PREFIX
from plugin.admin.sessions import LIFETIME_S, RECHECK_S
from tests.integration.test_admin_auth import (
    admin_redis,
    app,
    keycloak_sign_in,
    make_user,
    password_token,
)

pytestmark = pytest.mark.integration
__all__ = ["admin_redis", "app"]  # fixtures, imported for this module's tests
ADMIN_ROLES = ("manage-identity-providers", "manage-users")


def _signed_in(
    app: Flask, keycloak_admin: KeycloakAdmin, username: str = "it-admin"
) -> tuple[FlaskClient, str]:
    user_id = make_user(keycloak_admin, username, client_roles=ADMIN_ROLES)
    client = app.test_client()
    assert keycloak_sign_in(client, username).status_code == 302
    assert client.get(f"{URL_PREFIX}/").status_code == 200
    return client, user_id


def _session_keys(redis: Redis, app: Flask) -> list[str]:
    realm = app.config["SETTINGS"].keycloak.realm
    return [k.decode() for k in redis.keys(f"kcc:{realm}:admin-session:*")]


def _age_sessions(redis: Redis, app: Flask) -> None:
    """As if the re-check interval had passed since the last check."""
    for key in _session_keys(redis, app):
        record = json.loads(redis.get(key))  # type: ignore[arg-type]
        record["checked"] -= RECHECK_S + 1
        redis.set(key, json.dumps(record), keepttl=True)


def test_a_cookie_replayed_after_sign_out_is_refused(
    app: Flask, keycloak_admin: KeycloakAdmin, admin_redis: Redis
) -> None:
    client, _ = _signed_in(app, keycloak_admin)
    [key] = _session_keys(admin_redis, app)
    assert LIFETIME_S - 60 <= admin_redis.ttl(key) <= LIFETIME_S  # an absolute lifetime from sign-in
    cookie = client.get_cookie("kcc_session")
    assert cookie is not None
    page = client.get(f"{URL_PREFIX}/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    assert client.post(f"{URL_PREFIX}/logout", data={"csrf_token": csrf}).status_code == 302
    assert _session_keys(admin_redis, app) == []

    replay = app.test_client()
    replay.set_cookie("kcc_session", cookie.value)
    assert replay.get(f"{URL_PREFIX}/api/status").status_code == 401
    again = replay.get(f"{URL_PREFIX}/")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"{URL_PREFIX}/login")


@pytest.mark.parametrize("how", ["keycloak-logout", "disabled", "role-removed"])
def test_access_ends_at_the_first_request_after_the_recheck(
    app: Flask, keycloak_admin: KeycloakAdmin, admin_redis: Redis, how: str
) -> None:
    client, user_id = _signed_in(app, keycloak_admin)
    if how == "keycloak-logout":
        keycloak_admin.user_logout(user_id)  # an admin ends the session in the console
    elif how == "disabled":
        keycloak_admin.update_user(user_id, {"enabled": False})
    else:
        management = keycloak_admin.get_client_id("realm-management")
        roles = [keycloak_admin.get_client_role(management, name) for name in ADMIN_ROLES]
        keycloak_admin.delete_client_roles_of_user(user_id, management, roles)
    assert client.get(f"{URL_PREFIX}/api/status").status_code == 200  # inside the interval
    _age_sessions(admin_redis, app)
    answer = client.get(f"{URL_PREFIX}/api/status")
    if how == "role-removed":
        assert answer.status_code == 403
    else:
        assert answer.status_code == 401
        assert _session_keys(admin_redis, app) == []


def test_the_api_takes_only_tokens_of_the_sidecars_clients(app: Flask, keycloak_admin: KeycloakAdmin) -> None:
    make_user(keycloak_admin, "script-admin", client_roles=("realm-admin",))
    settings = app.config["SETTINGS"]
    client = app.test_client()
    ours = {"Authorization": f"Bearer {password_token(settings, 'script-admin')}"}
    other = {"Authorization": f"Bearer {password_token(settings, 'script-admin', client_id='admin-cli')}"}
    assert client.get(f"{URL_PREFIX}/api/status", headers=ours).status_code == 200
    refused = client.get(f"{URL_PREFIX}/api/status", headers=other)
    assert refused.status_code == 401
    assert refused.json == {"error": "the bearer token was refused by Keycloak"}
    assert client.get("/metrics", headers=other).status_code == 401


def test_a_bearer_answer_is_not_kept_beyond_a_few_seconds(app: Flask, keycloak_admin: KeycloakAdmin) -> None:
    user_id = make_user(keycloak_admin, "cached-admin", client_roles=("realm-admin",))
    headers = {"Authorization": f"Bearer {password_token(app.config['SETTINGS'], 'cached-admin')}"}
    client = app.test_client()
    assert client.get(f"{URL_PREFIX}/api/status", headers=headers).status_code == 200
    keycloak_admin.update_user(user_id, {"enabled": False})
    time.sleep(BEARER_CACHE_S + 0.5)
    assert client.get(f"{URL_PREFIX}/api/status", headers=headers).status_code == 401
