"""Match Users By Name against people in OpenLDAP (through a real Keycloak LDAP federation) and
against an account linked to a ``google`` identity provider; LDAP groups list their DNs."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin
from ldap3 import BASE, Connection

from connectors.keycloak_ldap import federate_ldap
from connectors.keycloak_people import LDAP_MAPPER
from plugin.config.settings import Settings
from plugin.sync.pipeline import run_sync
from tests.conftest import LdapOu
from tests.factories import make_school, make_section, make_student, make_teacher
from tests.idp import register_idp
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration


def test_name_match_links_ldap_and_google_accounts_and_fills_ldap_groups(
    settings: Settings,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
    services_env: dict[str, str],
) -> None:
    dn = f"uid=mgarcia,{ldap_ou.people_dn}"
    assert ldap_conn.add(dn, ["inetOrgPerson"], {"cn": "María", "sn": "García", "givenName": "María"})
    for alias in ("clever", "google"):  # the IdPs the broker (clever) and the school (google) register
        register_idp(keycloak_admin, alias)
    federate_ldap(keycloak_admin, settings.ldap, mode="READ_ONLY")
    google_id = keycloak_admin.create_user(
        {
            "username": "obrien",
            "firstName": "Sean",
            "lastName": "O’Brien",
            "enabled": True,
            "federatedIdentities": [{"identityProvider": "google", "userId": "g-1", "userName": "obrien"}],
        }
    )
    admin_id = keycloak_admin.create_user(
        {"username": "boss", "firstName": "Ada", "lastName": "King", "enabled": True}
    )
    realm_management = keycloak_admin.get_client_id("realm-management")
    keycloak_admin.assign_client_role(
        admin_id, realm_management, [keycloak_admin.get_client_role(realm_management, "realm-admin")]
    )

    school = make_school("Lincoln Elementary")
    teacher = make_teacher("Maria", "Garcia", school=school.clever_id)  # no accents in Clever
    coach = make_teacher("Seán", "O'Brien", school=school.clever_id)
    boss_namesake = make_student("Ada", "King", school=school.clever_id)
    section = make_section(
        "Math, #1 / A",
        school=school.clever_id,
        teachers=[teacher.clever_id],
        students=[boss_namesake.clever_id],
    )
    source = MemorySource(MemoryRoster([school], [teacher, coach, boss_namesake], [section]))

    report = run_sync(settings, source=source, district_id="d1")
    assert report.status == "ok", report.summary()
    assert report.kinds["teachers"]["linked_by_name"] == 2

    ldap_user = keycloak_admin.get_users({"username": "mgarcia", "exact": True})[0]
    # read-only LDAP account: linked and in its groups, attributes refused by Keycloak (reported)
    links = keycloak_admin.get_user_social_logins(ldap_user["id"])
    assert [(link["identityProvider"], link["userId"]) for link in links] == [("clever", teacher.clever_id)]
    assert any("read-only" in warning for warning in report.warnings)
    assert report.errors == []
    groups = {g["path"] for g in keycloak_admin.get_user_groups(ldap_user["id"], brief_representation=True)}
    assert "/Clever/Lincoln Elementary/Teachers" in groups
    google_user = keycloak_admin.get_user(google_id)
    assert google_user["username"] == "obrien"
    assert google_user.get("attributes", {}).get("clever_id") == [coach.clever_id], report.summary()
    # the admin namesake is never linked: the student waits for an admin, with nothing to choose
    assert "clever_id" not in (keycloak_admin.get_user(admin_id).get("attributes") or {})
    assert not keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": boss_namesake.clever_id})
    [waiting] = [w for w in report.waiting if w["clever_id"] == boss_namesake.clever_id]
    assert waiting["kind"] == "refused-link" and waiting["candidates"] == []
    assert "admin or management rights" in waiting["reason"]

    # LDAP: the school and the class list the directory person's DN (plus the placeholder)
    school_dn = f"cn=Lincoln Elementary,{ldap_ou.groups_dn}"
    assert ldap_conn.search(school_dn, "(objectClass=groupOfNames)", BASE, attributes=["member"])
    assert set(ldap_conn.entries[0].member.values) == {ldap_ou.groups_dn, dn}
    assert ldap_conn.search(school_dn, "(businessCategory=section:*)", attributes=["member", "owner", "cn"])
    entry = ldap_conn.entries[0]
    assert entry.cn.value == "Math, #1 / A"
    assert set(entry.owner.values) == {dn}

    again = run_sync(settings, source=source, district_id="d1")
    assert again.writes == {"keycloak": 0, "ldap": 0}, again.summary()


def test_an_ldap_account_whose_first_name_keycloak_read_from_cn_is_linked_by_name(
    settings: Settings,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
    services_env: dict[str, str],
) -> None:
    dn = f"uid=lmartin,{ldap_ou.people_dn}"
    assert ldap_conn.add(dn, ["inetOrgPerson"], {"cn": "Liam Martin", "sn": "Martin", "givenName": "Liam"})
    register_idp(keycloak_admin)
    # Writable: a sync that "corrected" the first name would rewrite the directory's cn.
    component = federate_ldap(keycloak_admin, settings.ldap, mode="WRITABLE")
    mappers = keycloak_admin.get_components({"parent": component, "type": LDAP_MAPPER})
    [first_name] = [m for m in mappers if m["config"].get("user.model.attribute") == ["firstName"]]
    assert first_name["config"]["ldap.attribute"] == ["cn"]  # Keycloak's default, left as it is
    account = keycloak_admin.get_users({"username": "lmartin", "exact": True})[0]
    assert (account["firstName"], account["lastName"]) == ("Liam Martin", "Martin")

    school = make_school("Lincoln Elementary")
    liam = make_teacher("Liam", "Martin", school=school.clever_id)
    source = MemorySource(MemoryRoster([school], [liam], []))
    report = run_sync(settings, source=source, district_id="d1")

    assert report.status == "ok", report.summary()
    assert report.kinds["teachers"]["linked_by_name"] == 1 and report.kinds["teachers"]["created"] == 0
    assert report.ambiguous == [] and report.errors == []
    links = keycloak_admin.get_user_social_logins(account["id"])
    assert [(link["identityProvider"], link["userId"]) for link in links] == [("clever", liam.clever_id)]
    again = run_sync(settings, source=source, district_id="d1")
    assert again.writes == {"keycloak": 0, "ldap": 0}, again.summary()
    assert ldap_conn.search(dn, "(objectClass=inetOrgPerson)", BASE, attributes=["cn", "givenName"])
    assert ldap_conn.entries[0].cn.values == ["Liam Martin"]  # the directory's name is untouched
