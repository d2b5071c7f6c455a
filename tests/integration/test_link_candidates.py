"""Who may be matched to a Clever person: real Keycloak (effective roles), OpenLDAP, Redis.

Each test builds an account that a Clever person of the same name must *not* land in, runs the
sync, and looks at what a Keycloak admin would see: the account has no Clever link and no Clever
attributes, and the person got an account of their own (or waits for an admin).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors.keycloak_ldap import federate_ldap
from model.records import User
from plugin.config.settings import Settings
from plugin.sync.pipeline import run_sync
from plugin.sync.report import SyncReport
from tests.conftest import LdapOu
from tests.factories import make_school, make_staff, make_student, make_teacher
from tests.idp import register_idp
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration


def federate_subtree(admin: KeycloakAdmin, settings: Settings, users_dn: str) -> None:
    """A read-only LDAP federation searching the whole subtree under ``users_dn``."""
    component = federate_ldap(admin, settings.ldap, mode="READ_ONLY", users_dn=users_dn, full_sync=False)
    rep = admin.get_component(component)
    rep["config"]["searchScope"] = ["2"]
    admin.update_component(component, rep)
    admin.sync_users(component, "triggerFullSync")


def account(admin: KeycloakAdmin, username: str = "aking", first: str = "Ada", last: str = "King") -> str:
    return str(
        admin.create_user({"username": username, "firstName": first, "lastName": last, "enabled": True})
    )


def management_role(admin: KeycloakAdmin, name: str) -> dict[str, object]:
    return dict(admin.get_client_role(admin.get_client_id("realm-management"), name))


def through_a_composite_realm_role(admin: KeycloakAdmin, user: str) -> None:
    admin.create_realm_role({"name": "helpdesk", "composite": False})
    admin.add_composite_realm_roles_to_role("helpdesk", [management_role(admin, "manage-users")])
    admin.assign_realm_roles(user, [admin.get_realm_role("helpdesk")])


def through_a_parent_group(admin: KeycloakAdmin, user: str) -> None:
    parent = admin.create_group({"name": "IT"})
    child = admin.create_group({"name": "Interns"}, parent=parent)
    admin.assign_group_client_roles(
        parent, admin.get_client_id("realm-management"), [management_role(admin, "view-users")]
    )
    admin.group_user_add(user, child)


def through_another_clients_admin_role(admin: KeycloakAdmin, user: str) -> None:
    client = admin.create_client({"clientId": "sis-portal", "enabled": True})
    admin.create_client_role(client, {"name": "portal-admin"})
    admin.assign_client_role(user, client, [admin.get_client_role(client, "portal-admin")])


def as_a_clever_admin(admin: KeycloakAdmin, user: str) -> None:
    admin.create_realm_role({"name": "clever-admin"}, skip_exists=True)
    admin.assign_realm_roles(user, [admin.get_realm_role("clever-admin")])


def ordinary(admin: KeycloakAdmin, user: str) -> None:
    """The control: nothing makes this account privileged, so the teacher is linked to it."""


def sync_report(settings: Settings, people: list[User], school_id: str) -> SyncReport:
    school = make_school("Lincoln Elementary", clever_id=school_id)
    report = run_sync(settings, source=MemorySource(MemoryRoster([school], people, [])), district_id="d1")
    assert report.status == "ok", report.summary()
    return report


def sync(settings: Settings, people: list[User], school_id: str) -> str:
    return sync_report(settings, people, school_id).summary()


def clever_links(admin: KeycloakAdmin, user: str) -> list[str]:
    return [link["userId"] for link in admin.get_user_social_logins(user)]


@pytest.mark.parametrize(
    ("privilege", "said"),
    [
        (through_a_composite_realm_role, "has admin or management rights"),
        (through_a_parent_group, "has admin or management rights"),
        (through_another_clients_admin_role, "holds client role sis-portal/portal-admin"),
        (as_a_clever_admin, "has admin or management rights"),
    ],
)
def test_an_account_with_admin_power_or_another_clients_role_is_never_matched(
    settings: Settings,
    keycloak_admin: KeycloakAdmin,
    privilege: Callable[[KeycloakAdmin, str], None],
    said: str,
) -> None:
    register_idp(keycloak_admin)
    user = account(keycloak_admin)
    privilege(keycloak_admin, user)
    teacher = make_teacher("Ada", "King", school="5f00000000000000000000a1")

    report = sync_report(settings, [teacher], "5f00000000000000000000a1")

    assert clever_links(keycloak_admin, user) == [], report.summary()
    assert "clever_id" not in (keycloak_admin.get_user(user).get("attributes") or {})
    # The teacher waits for an admin, with the account and why it was refused; no account is made.
    assert not keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": teacher.clever_id})
    [waiting] = [w for w in report.waiting if w["clever_id"] == teacher.clever_id]
    assert waiting["kind"] == "refused-link" and said in waiting["reason"]
    assert [c["keycloak_id"] for c in waiting["listed"]] == [user]


def test_an_ordinary_namesake_is_matched(settings: Settings, keycloak_admin: KeycloakAdmin) -> None:
    register_idp(keycloak_admin)
    user = account(keycloak_admin)
    teacher = make_teacher("Ada", "King", school="5f00000000000000000000a1")

    summary = sync(settings, [teacher], "5f00000000000000000000a1")

    assert clever_links(keycloak_admin, user) == [teacher.clever_id], summary


def test_a_staff_account_is_never_a_clever_students(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    register_idp(keycloak_admin)
    keycloak_admin.create_realm_role({"name": "clever-staff"}, skip_exists=True)
    staff_account = account(keycloak_admin, "jdatos.office", "Jess", "Datos")
    keycloak_admin.assign_realm_roles(staff_account, [keycloak_admin.get_realm_role("clever-staff")])
    student = make_student("Jess", "Datos", school="5f00000000000000000000a1")

    summary = sync(settings, [student], "5f00000000000000000000a1")

    assert clever_links(keycloak_admin, staff_account) == [], summary
    assert "clever-staff (another Clever role)" in summary


def test_a_directory_account_where_the_district_keeps_staff_is_not_a_students(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    staff_ou = f"ou=staff,{ldap_ou.people_dn}"
    assert ldap_conn.add(staff_ou, ["organizationalUnit"])
    assert ldap_conn.add(
        f"uid=pkim,{staff_ou}", ["inetOrgPerson"], {"cn": "Pat Kim", "sn": "Kim", "givenName": "Pat"}
    )
    register_idp(keycloak_admin)
    federate_subtree(keycloak_admin, settings, ldap_ou.people_dn)
    settings = settings.with_options(match_scopes=(("staff", (staff_ou,)), ("teacher", (staff_ou,))))
    student = make_student("Pat", "Kim", school="5f00000000000000000000a1")
    worker = make_staff("Pat", "Kim", school="5f00000000000000000000a1")  # the namesake who works there

    summary = sync(settings, [student], "5f00000000000000000000a1")

    ldap_account = keycloak_admin.get_users({"username": "pkim", "exact": True})[0]
    assert clever_links(keycloak_admin, ldap_account["id"]) == [], summary
    assert "where the district keeps Clever role staff" in summary
    sync(settings, [student, worker], "5f00000000000000000000a1")
    assert clever_links(keycloak_admin, ldap_account["id"]) == [worker.clever_id]


def test_a_directory_account_outside_the_synced_people_is_out_of_scope(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    elsewhere = f"ou=alumni,{ldap_ou.dn}"
    assert ldap_conn.add(elsewhere, ["organizationalUnit"])
    assert ldap_conn.add(
        f"uid=lmoss,{elsewhere}", ["inetOrgPerson"], {"cn": "Lee Moss", "sn": "Moss", "givenName": "Lee"}
    )
    register_idp(keycloak_admin)
    federate_subtree(keycloak_admin, settings, ldap_ou.dn)
    student = make_student("Lee", "Moss", school="5f00000000000000000000a1")

    summary = sync(settings, [student], "5f00000000000000000000a1")

    ldap_account = keycloak_admin.get_users({"username": "lmoss", "exact": True})[0]
    assert clever_links(keycloak_admin, ldap_account["id"]) == [], summary
    assert "outside the synced directory" in summary


def test_a_user_who_renames_themselves_is_not_matched_to_the_new_name(
    settings: Settings, keycloak_admin: KeycloakAdmin, services_env: dict[str, str]
) -> None:
    import requests

    register_idp(keycloak_admin)
    sync(settings, [], "5f00000000000000000000a1")  # the sync has set up the realm's User Profile
    pupil = account(keycloak_admin, "pupil", "Sam", "Lee")
    keycloak_admin.set_user_password(pupil, "pupil-pass-1", temporary=False)
    realm = settings.keycloak.realm
    token = requests.post(
        f"{services_env['KEYCLOAK_URL']}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": "pupil",
            "password": "pupil-pass-1",
        },
        timeout=10,
    ).json()["access_token"]
    # The Account Console's own call: rename myself to the new teacher's name.
    renamed = requests.post(
        f"{services_env['KEYCLOAK_URL']}/realms/{realm}/account",
        json={"username": "pupil", "firstName": "Ada", "lastName": "King"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    teacher = make_teacher("Ada", "King", school="5f00000000000000000000a1")

    summary = sync(settings, [teacher], "5f00000000000000000000a1")

    assert renamed.status_code >= 400 or keycloak_admin.get_user(pupil)["firstName"] == "Sam"
    assert clever_links(keycloak_admin, pupil) == [], summary
    assert keycloak_admin.get_user(pupil)["firstName"] == "Sam"
