"""Every route of the sidecar, signed in or not, carries the security headers; a bad run id is a 400.

Real Keycloak (the bearer token is a realm admin's, checked at the realm's userinfo endpoint) and
Redis; the route list is the app's own ``url_map``, so a route added later is covered too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin

from plugin.admin.blueprint import URL_PREFIX
from plugin.config.hardening import SECURITY_HEADERS
from tests.integration.test_admin_auth import admin_redis, app, make_user, password_token

pytestmark = pytest.mark.integration
__all__ = ["admin_redis", "app"]  # fixtures, imported for this module's tests
BAD_RUN_IDS = ("bad:id", "a%20b", "%C3%A9t%C3%A9", "run*", "x%0Ay", "a.b")
VALUES = {"run_id": "0123456789ab", "school_id": "s1", "filename": "x.css"}


def _urls(app: Flask) -> Iterator[tuple[str, str]]:
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", VALUES[name]).replace(f"<path:{name}>", VALUES[name])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, url


@pytest.fixture
def bearer(app: Flask, keycloak_admin: KeycloakAdmin) -> dict[str, str]:
    make_user(keycloak_admin, "hardening-admin", client_roles=("realm-admin",))
    return {"Authorization": f"Bearer {password_token(app.config['SETTINGS'], 'hardening-admin')}"}


def _assert_headers(response: object, where: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, f"{where}: {name} is {headers.get(name)!r}"


def test_every_route_answers_with_the_security_headers(app: Flask, bearer: dict[str, str]) -> None:
    anonymous, signed_in = app.test_client(), app.test_client()
    routes = list(_urls(app))
    assert len(routes) > 20  # the admin page, its API, the portal, /metrics, /healthz
    for method, url in routes:
        for who, client, headers in (("anonymous", anonymous, {}), ("admin", signed_in, bearer)):
            response = client.open(url, method=method, headers=headers, json={})
            where = f"{who} {method} {url} -> {response.status_code}"
            _assert_headers(response, where)
            assert response.status_code < 500, where


def _bad_run_routes() -> Iterator[tuple[str, str]]:
    for run_id in BAD_RUN_IDS:
        yield "GET", f"{URL_PREFIX}/runs/{run_id}"
        yield "GET", f"{URL_PREFIX}/?run={run_id}"
        yield "POST", f"{URL_PREFIX}/runs/{run_id}/approve"
        yield "POST", f"{URL_PREFIX}/runs/{run_id}/discard"
        yield "GET", f"{URL_PREFIX}/api/runs/{run_id}"
        yield "GET", f"{URL_PREFIX}/api/runs/{run_id}/progress"
        yield "POST", f"{URL_PREFIX}/api/runs/{run_id}/approve"
        yield "POST", f"{URL_PREFIX}/api/runs/{run_id}/discard"


def test_a_run_id_outside_letters_digits_and_dashes_is_a_400(app: Flask, bearer: dict[str, str]) -> None:
    client: FlaskClient = app.test_client()
    for method, url in _bad_run_routes():
        response = client.open(url, method=method, headers=bearer, json={})
        assert response.status_code == 400, f"{method} {url} -> {response.status_code}"
        _assert_headers(response, url)
        if "/api/" in url:
            assert response.json == {"error": "that is not a run id (letters, digits and '-' only)"}
    # Anonymous callers learn nothing about ids: still refused as anonymous.
    assert app.test_client().get(f"{URL_PREFIX}/api/runs/bad:id").status_code == 401
    assert client.get(f"{URL_PREFIX}/api/runs/0123456789ab", headers=bearer).status_code == 404  # no such run
