"""Classes for apps: an LMS (a real confidential OIDC client of the test realm) asks for the optional
scope ``clever-classes``, a teacher the roster sync made signs in through Keycloak's "Clever" button
and the sandbox in Chromium, and the LMS reads the teacher's classes and schools from its tokens and
from userinfo, as ``docs/apps.md`` tells an app to."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from playwright.sync_api import Page

from connectors.clever import CleverClient
from connectors.keycloak import admin_client
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker, fetch_discovery
from plugin.sso.classes_scope import SCOPE_NAME
from plugin.sync.run_options import RunOptions
from tests.browser_fixtures import ARTIFACTS, CleverWorld
from tests.sync_expect import raw

pytestmark = [pytest.mark.browser, pytest.mark.integration]
LMS = "lms"


def sync_the_district(world: CleverWorld) -> None:
    """A full roster sync of the sandbox district into the realm, as the weekly run does it."""
    settings = world.settings
    state = SyncState.from_url(settings.redis_url)
    report = jobs.run_locked(
        settings,
        state,
        settings.clever.district_id,
        "classes1",
        RunOptions(full=True),
        source=CleverClient(settings.clever),
    )
    assert report.status == "ok" and not report.errors, report.summary()


def make_lms(world: CleverWorld, callback: str) -> str:
    """A confidential client made after ``register``, as an LMS is; its secret."""
    secret = secrets.token_urlsafe(24)
    world.admin.create_client(
        {
            "clientId": LMS,
            "protocol": "openid-connect",
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": [callback],
        }
    )
    return secret


def sign_in(page: Page, world: CleverWorld, callback: str, scope: str) -> str:
    """The LMS's login; the code Keycloak sends back to it."""
    query = {
        "client_id": LMS,
        "redirect_uri": callback,
        "response_type": "code",
        "scope": scope,
        "state": "s",
    }
    page.goto(f"{world.realm_url}/protocol/openid-connect/auth?{urlencode(query)}")
    page.wait_for_url(f"{callback}**")
    return parse_qs(urlsplit(page.url).query)["code"][0]


def tokens(world: CleverWorld, code: str, callback: str, secret: str) -> dict[str, Any]:
    answer = requests.post(
        f"{world.realm_url}/protocol/openid-connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback},
        auth=(LMS, secret),
        timeout=30,
    )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def verified(world: CleverWorld, token: str) -> dict[str, Any]:
    """A token's claims, its signature checked against the realm's keys."""
    key = jwt.PyJWKClient(f"{world.realm_url}/protocol/openid-connect/certs").get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["RS256"], options={"verify_aud": False})
    return claims


def test_an_lms_reads_a_synced_teachers_classes_from_tokens_and_userinfo(
    page: Page, clever_world: CleverWorld
) -> None:
    world = clever_world
    # As deployed: register through the sidecar's least-privileged service account, after which the
    # new scope is one of the realm's default optional scopes.
    report = ensure_broker(
        admin_client(world.settings.keycloak), world.settings, fetch_discovery(world.sandbox_url)
    )
    assert report.notes == []
    sync_the_district(world)
    sections = raw(world.sandbox, "sections")
    teacher = next(
        t for t in world.sandbox.people("teacher") if any(t["id"] in s["teachers"] for s in sections)
    )
    taught = {s["id"]: s["school"] for s in sections if teacher["id"] in s["teachers"]}
    callback = f"{world.sidecar_url}/lms/callback"  # the LMS's own page (here: only its URL is read)
    secret = make_lms(world, callback)

    page.goto(world.realm_url + "/account/")  # nobody signed in yet: Keycloak's login page
    page.click("#social-clever")
    page.click(f"#login-{teacher['id']}")
    page.wait_for_url(f"{world.account_url}**")
    code = sign_in(page, world, callback, f"openid {SCOPE_NAME}")
    page.screenshot(path=str(ARTIFACTS / "classes-scope-lms-callback.png"))
    answer = tokens(world, code, callback, secret)

    access, id_token = verified(world, answer["access_token"]), verified(world, answer["id_token"])
    userinfo = requests.get(
        f"{world.realm_url}/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {answer['access_token']}"},
        timeout=30,
    ).json()
    assert SCOPE_NAME in access["scope"].split()
    for claims in (access, id_token, userinfo):
        classes = claims["clever_classes"]
        assert {c["id"]: c["school_id"] for c in classes} == taught
        assert {c["role"] for c in classes} == {"teacher"}
        for held in classes:
            (group,) = [
                g
                for g in world.admin.get_user_groups(_keycloak_id(world, teacher))
                if g["path"] == held["group"]
            ]
            assert group["name"] == held["name"]
        schools = {s["id"]: s["name"] for s in claims["clever_schools"]}
        assert set(taught.values()) <= set(schools)
        for school_id, name in schools.items():
            assert world.sandbox.store.get("schools", school_id)["name"] == name  # type: ignore[index]

    # Without the scope, the same LMS gets no classes (the browser's session answers at once).
    plain = tokens(world, sign_in(page, world, callback, "openid"), callback, secret)
    assert "clever_classes" not in verified(world, plain["access_token"])
    assert "clever_schools" not in verified(world, plain["id_token"])


def _keycloak_id(world: CleverWorld, person: dict[str, Any]) -> str:
    (user,) = world.admin.get_users({"idpAlias": "clever", "idpUserId": person["id"]})
    return str(user["id"])
