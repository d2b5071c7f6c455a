"""Accounts the district already has sign in with Clever and land in their own account: a READ_ONLY
and a WRITABLE LDAP teacher the sync linked by name, and an account that also signs in through
another identity provider. A Clever login writes nothing to them (``plugin.sso.broker``: every
mapper IMPORT), which is what lets a READ_ONLY directory account sign in at all (Keycloak refuses
every write to it: ``ReadOnlyException``). Real Chromium, Keycloak with OpenLDAP federation, the
sandbox as Clever, a real sync."""

from __future__ import annotations

from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import BASE, Connection
from playwright.sync_api import Page, expect

from connectors.keycloak_ldap import federate_ldap
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sync.run_options import RunOptions
from tests.browser_fixtures import CleverWorld
from tests.conftest import LdapOu

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _sign_in_with_clever(page: Page, world: CleverWorld, person: dict[str, Any]) -> None:
    page.goto(world.account_url)
    page.click("#social-clever")
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    page.click(f"#login-{person['id']}")
    page.wait_for_url(f"{world.account_url}**")


def _directory_teacher(conn: Connection, ou: LdapOu, person: dict[str, Any], uid: str) -> str:
    name = person["name"]
    dn = f"uid={uid},{ou.people_dn}"
    attributes = {"cn": f"{name['first']} {name['last']}", "sn": name["last"], "givenName": name["first"]}
    assert conn.add(dn, ["inetOrgPerson"], attributes), conn.result
    return dn


def _entry(conn: Connection, dn: str) -> dict[str, list[str]]:
    assert conn.search(dn, "(objectClass=*)", BASE, attributes=["*"])
    return {
        name: sorted(map(str, values)) for name, values in conn.entries[0].entry_attributes_as_dict.items()
    }


@pytest.mark.parametrize("mode", ["READ_ONLY", "WRITABLE"])
def test_a_directory_teacher_the_sync_linked_signs_in_with_clever_into_their_own_account(
    page: Page,
    clever_world: CleverWorld,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
    redis_url: str,
    mode: str,
) -> None:
    world = clever_world
    teacher = world.person("teacher", 1)
    dn = _directory_teacher(ldap_conn, ldap_ou, teacher, "dir.teacher")
    federate_ldap(keycloak_admin, world.settings.ldap, mode=mode)
    before = _entry(ldap_conn, dn)
    state = SyncState.from_url(redis_url)
    report = jobs.run_locked(
        world.settings, state, world.settings.clever.district_id, "r1", RunOptions(full=True)
    )
    assert report.status == "ok", report.summary()
    [account] = keycloak_admin.get_users({"username": "dir.teacher", "exact": True})
    links = keycloak_admin.get_user_social_logins(account["id"])
    assert [(link["userId"], link["userName"]) for link in links] == [
        (teacher["id"], f"clever-sync:{teacher['id']}")
    ], report.summary()
    users = world.user_count()
    profile = {key: account.get(key) for key in ("firstName", "lastName", "email")}

    _sign_in_with_clever(page, world, teacher)

    expect(page.get_by_label("Username")).to_have_value("dir.teacher")
    assert world.sessions(account["id"]), "the directory teacher has no Keycloak session"
    assert world.user_count() == users
    after = keycloak_admin.get_user(account["id"])
    assert {key: after.get(key) for key in ("firstName", "lastName", "email")} == profile
    assert _entry(ldap_conn, dn) == before  # the login wrote nothing to the directory


def test_an_account_that_also_signs_in_through_another_provider_lands_in_itself(
    page: Page, clever_world: CleverWorld, keycloak_admin: KeycloakAdmin
) -> None:
    world = clever_world
    keycloak_admin.create_idp(
        {
            "alias": "google",
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "clientId": "district-google",
                "clientSecret": "x",
                "authorizationUrl": "https://accounts.google.example/o/oauth2/auth",
                "tokenUrl": "https://oauth2.google.example/token",
                "syncMode": "FORCE",
            },
        }
    )
    student = world.person("student", 2)
    keycloak_id = world.prelink(student)
    keycloak_admin.add_user_social_login(keycloak_id, "google", "g-123", "pupil@district.example")
    users = world.user_count()

    _sign_in_with_clever(page, world, student)

    username = keycloak_admin.get_user(keycloak_id)["username"]
    expect(page.get_by_label("Username")).to_have_value(username)
    assert world.sessions(keycloak_id)
    assert world.user_count() == users
    links = {link["identityProvider"] for link in keycloak_admin.get_user_social_logins(keycloak_id)}
    assert links == {"clever", "google"}
