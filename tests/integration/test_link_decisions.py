"""The admin's linking decisions through the JSON API, on the real Keycloak and Redis: a resolution
may only pick a listed candidate (or a new account), needs a realm admin, and is audited; a
``clever`` link the sync did not make gets nothing until a realm admin keeps or removes it."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from redis import Redis

from model.records import User
from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.sso import links
from plugin.sync import resolutions
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from tests.factories import make_school, make_student
from tests.idp import register_idp
from tests.integration.test_admin_auth import admin_redis, admin_settings, make_user, password_token
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration
DISTRICT = "5f00000000000000000000d1"
__all__ = ["admin_redis"]  # a fixture of the admin tests, used here too


@pytest.fixture
def page_settings(settings: Settings, admin_redis: Redis) -> Settings:
    """The page's settings: the admin tests' Redis, the district confirmed."""
    settings = admin_settings(settings)
    return dataclasses.replace(settings, clever=dataclasses.replace(settings.clever, district_id=DISTRICT))


def token(settings: Settings, username: str) -> str:
    return password_token(settings, username)


def sync(settings: Settings, source: MemorySource) -> SyncReport:
    """A full run at the job boundary: its report stored, the standing waiting list brought up to date."""
    state = jobs.state_for(settings)
    report = jobs.run_locked(
        settings, state, DISTRICT, uuid.uuid4().hex[:12], source=source, run=RunOptions(full=True)
    )
    assert report.status == "ok", report.summary()
    return report


def post(
    client: FlaskClient, settings: Settings, who: str, path: str, body: dict[str, str]
) -> tuple[int, str]:
    answer = client.post(
        f"{URL_PREFIX}/api/{path}", json=body, headers={"Authorization": f"Bearer {token(settings, who)}"}
    )
    data = answer.get_json()
    return answer.status_code, str(data.get("error") or data.get("message"))


def test_a_resolution_may_only_pick_a_listed_candidate_needs_a_realm_admin_and_is_audited(
    page_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    settings = page_settings
    register_idp(keycloak_admin)
    twins = [
        keycloak_admin.create_user(
            {"username": f"twin{i}", "enabled": True, "firstName": "Jess", "lastName": "Datos"}
        )
        for i in (1, 2)
    ]
    bystander = keycloak_admin.create_user(
        {"username": "zquinn", "enabled": True, "firstName": "Zed", "lastName": "Quinn"}
    )
    make_user(keycloak_admin, "it-admin", client_roles=("realm-admin",))
    make_user(keycloak_admin, "page-only", realm_roles=("clever-admin",))
    school = make_school("Lincoln School")
    student = make_student("Jess", "Datos", school=school.clever_id)
    source = MemorySource(MemoryRoster([school], [student], []))
    assert sync(settings, source).ambiguous
    client = create_app(settings).test_client()
    redis = Redis.from_url(settings.redis_url)

    to_bystander = post(
        client, settings, "it-admin", "resolutions", {"clever_id": student.clever_id, "choice": bystander}
    )
    by_page_only = post(
        client, settings, "page-only", "resolutions", {"clever_id": student.clever_id, "choice": twins[1]}
    )

    assert to_bystander[0] == 400 and "not one of this person's candidates" in to_bystander[1]
    assert by_page_only[0] == 400 and "realm admin" in by_page_only[1]
    assert resolutions.load(redis, settings.keycloak.realm) == {}
    assert links.audit_log(redis, settings.keycloak.realm) == []

    assert (
        post(
            client, settings, "it-admin", "resolutions", {"clever_id": student.clever_id, "choice": twins[1]}
        )[0]
        == 200
    )
    (entry,) = links.audit_log(redis, settings.keycloak.realm)
    assert (entry["who"], entry["action"], entry["clever_id"], entry["keycloak_id"]) == (
        "it-admin",
        "resolve",
        student.clever_id,
        twins[1],
    )
    sync(settings, source)
    assert [link["userId"] for link in keycloak_admin.get_user_social_logins(twins[1])] == [student.clever_id]
    assert keycloak_admin.get_user_social_logins(bystander) == []
    page = client.get(f"{URL_PREFIX}/", headers={"Authorization": f"Bearer {token(settings, 'it-admin')}"})
    assert b'id="audit"' in page.data and twins[1].encode() in page.data


def _self_linked(admin: KeycloakAdmin, names: dict[str, str]) -> tuple[User, str, MemorySource]:
    """A student, an account someone linked to the student's Clever id themselves (what the
    Account Console's "Linked accounts" does for a user holding manage-account), a realm admin,
    and the roster holding the student."""
    register_idp(admin)
    school = make_school("Lincoln School")
    student = make_student("Jess", "Datos", school=school.clever_id)
    link = {"identityProvider": "clever", "userId": student.clever_id, "userName": "x"}
    taker = admin.create_user(
        {"username": "someone", "enabled": True, **names, "federatedIdentities": [link]}
    )
    make_user(admin, "it-admin", client_roles=("realm-admin",))
    return student, str(taker), MemorySource(MemoryRoster([school], [student], []))


def test_a_link_the_sync_did_not_make_gets_nothing_until_a_realm_admin_keeps_it(
    page_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    settings = page_settings
    student, taker, source = _self_linked(keycloak_admin, {"firstName": "Some", "lastName": "One"})

    report = sync(settings, source)

    assert "attributes" not in keycloak_admin.get_user(taker) or not any(
        name.startswith("clever_") for name in keycloak_admin.get_user(taker)["attributes"]
    ), report.summary()
    assert keycloak_admin.get_user_groups(taker) == []
    assert [(w["kind"], w["clever_id"], w["keycloak_id"]) for w in report.waiting] == [
        ("suspicious-link", student.clever_id, taker)
    ]
    assert report.kinds["students"]["created"] == 0  # nobody else gets the identity meanwhile
    client = create_app(settings).test_client()
    page = client.get(f"{URL_PREFIX}/", headers={"Authorization": f"Bearer {token(settings, 'it-admin')}"})
    assert b'id="suspicious"' in page.data and taker.encode() in page.data

    assert (
        post(client, settings, "it-admin", "links", {"clever_id": student.clever_id, "decision": "keep"})[0]
        == 200
    )
    kept = sync(settings, source)
    synced = keycloak_admin.get_user(taker)
    assert (synced["firstName"], synced.get("attributes", {}).get("clever_role")) == ("Jess", ["student"]), (
        kept.summary()
    )
    assert [
        e["action"] for e in links.audit_log(Redis.from_url(settings.redis_url), settings.keycloak.realm)
    ] == ["link-keep"]


def test_an_unlinked_suspicious_link_lets_the_person_get_their_own_account(
    page_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    settings = page_settings
    student, taker, source = _self_linked(keycloak_admin, {})
    sync(settings, source)
    client = create_app(settings).test_client()

    assert (
        post(client, settings, "it-admin", "links", {"clever_id": student.clever_id, "decision": "unlink"})[0]
        == 200
    )
    report = sync(settings, source)

    assert keycloak_admin.get_user_social_logins(taker) == []
    (own,) = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": student.clever_id})
    assert own["id"] != taker and report.waiting == []
