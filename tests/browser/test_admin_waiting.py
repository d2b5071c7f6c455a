"""The waiting list in real headless Chromium, after the demo's own full sync of the sandbox district:
possible matches (near names in the directory), a refused link (an account holding the realm role
``staff``) and an ambiguous name, each person by name with their candidates; nothing preselected; a
rule confirmed by clicking it. The screenshot ``test-artifacts/waiting-list.png`` is the one in
``docs/img/waiting-list.png`` (``docs/admin.md``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection
from playwright.sync_api import Page, expect
from redis import Redis

from connectors.keycloak_ldap import federate_ldap
from plugin.commands.demo import _run_sync, record_choices
from plugin.config.settings import Settings
from plugin.sync.resolutions import load
from tests.browser.test_admin_page import AdminWorld, admin_world, sign_in
from tests.browser.test_admin_standing import demo_settings
from tests.conftest import LdapOu
from tests.integration.test_admin_auth import admin_redis

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world", "demo_settings"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _rename(world: AdminWorld, person: dict[str, object], first: str, last: str) -> str:
    world.sandbox.update("users", str(person["id"]), {"name": {"first": first, "last": last, "middle": ""}})
    return str(person["id"])


def _directory(admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu, settings: Settings) -> str:
    """The district's directory: two teachers under ou=teachers, spelled as the directory spells them."""
    ou = f"ou=teachers,{ldap_ou.people_dn}"
    assert ldap_conn.add(ou, ["organizationalUnit"])
    for uid, given, sn in (("lpark", "Lee-Ann", "Park"), ("jgarcia", "Jose", "Garcia Lopez")):
        attributes = {"cn": f"{given} {sn}", "sn": sn, "givenName": given}
        assert ldap_conn.add(f"uid={uid},{ou}", ["inetOrgPerson"], attributes)
    # As the demo federates it: the whole subtree, first names from givenName.
    component = federate_ldap(
        admin, settings.ldap, users_dn=ldap_ou.people_dn, given_name_mapper=True, full_sync=False
    )
    rep = admin.get_component(component)
    rep["config"]["searchScope"] = ["2"]
    admin.update_component(component, rep)
    admin.sync_users(component, "triggerFullSync")
    return ou


def test_the_waiting_list_names_people_and_candidates_and_confirms_a_rule(
    page: Page,
    admin_world: AdminWorld,
    demo_settings: Settings,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
) -> None:
    world = admin_world
    teachers, students = world.sandbox.people("teacher"), world.sandbox.people("student")
    lee = _rename(world, teachers[0], "Lee Ann", "Park")
    jose = _rename(world, teachers[1], "José", "García-López")
    jess = _rename(world, students[0], "Jess", "Datos")
    maeve = _rename(world, students[1], "Maeve", "O'Brien")
    ou = _directory(world.admin, ldap_conn, ldap_ou, demo_settings)
    world.admin.create_realm_role({"name": "staff"})
    office = world.admin.create_user(
        {"username": "jdatos.office", "enabled": True, "firstName": "Jess", "lastName": "Datos"}
    )
    world.admin.assign_realm_roles(office, [world.admin.get_realm_role("staff")])
    for i in (1, 2):
        world.admin.create_user(
            {"username": f"mobrien{i}", "enabled": True, "firstName": "Maeve", "lastName": "O'Brien"}
        )

    record_choices(demo_settings)  # the demo's own steps
    _run_sync(demo_settings)
    sign_in(page, world)
    page.wait_for_url(world.page_url)

    possible = page.locator("[data-waiting='possible-match']")
    expect(possible.locator(f"tr[data-clever-id='{lee}']")).to_contain_text("Lee Ann Park")
    expect(possible.locator(f"tr[data-clever-id='{lee}']")).to_contain_text(f"LDAP uid=lpark,{ou}")
    expect(possible.locator(f"tr[data-clever-id='{jose}']")).to_contain_text("José García-López")
    refused = page.locator(f"[data-waiting='refused-link'] tr[data-clever-id='{jess}']")
    expect(refused).to_contain_text("jdatos.office")
    expect(refused).to_contain_text("holds realm role staff")
    ambiguous = page.locator(f"[data-waiting='ambiguous'] tr[data-clever-id='{maeve}']")
    expect(ambiguous.locator("input[type=radio]")).to_have_count(3)
    expect(page.locator("#waiting input[type=radio]:checked")).to_have_count(0)
    rule = page.locator("form.rule", has_text=f"candidates from {ou.casefold()}")
    expect(rule).to_contain_text("2 possible matches")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#standing").screenshot(path=str(ARTIFACTS / "waiting-list.png"))

    rule.locator("button").click()

    expect(page.locator(".flash.ok")).to_contain_text("Confirmed 2 possible matches")
    chosen = load(Redis.from_url(world.settings.redis_url), world.settings.keycloak.realm)
    assert set(chosen) == {lee, jose}
