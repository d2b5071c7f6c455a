"""The names the mappers make are accepted as they are by the real Keycloak and OpenLDAP."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from keycloak import KeycloakAdmin
from ldap3 import BASE, Connection
from ldap3.utils.conv import escape_filter_chars

from mappers.classes import class_group_names, group_name_safe
from mappers.layout import CLASSES_GROUP, ROOT_GROUP
from mappers.names import username_for
from model.text import ldap_rdn
from tests.conftest import LdapOu
from tests.factories import make_section, make_student
from tests.group_paths import class_path

pytestmark = pytest.mark.integration

HARD_NAMES = [
    "Math 7/8",
    "#1 Band",
    "Smith, J - Algebra, Period 2",
    'A+B=C; "quoted" <tag>',
    "  spaced   out  ",
    "Science 🔬 Lab 👩‍🔬",
    "Tab\there\x00and\x1fcontrol",
    "Art~",
    "back\\slash",
    "Français 1",
    "x" * 300,
    "",
]


@pytest.fixture(params=[False, True], ids=["force-unique-off", "force-unique-on"])
def class_names(request: pytest.FixtureRequest) -> list[str]:
    """The class names of one school's hard sections, two of them colliding."""
    school = "5f00000000000000005c0001"
    sections = [make_section(name, school=school) for name in HARD_NAMES]
    sections += [make_section("Math 7/8", school=school), make_section("math 7∕8", school=school)]
    return [*class_group_names(sections, force_unique=request.param).names.values()]


def test_class_names_make_keycloak_groups_found_again_by_path(
    keycloak_admin: KeycloakAdmin, realm: str, class_names: list[str]
) -> None:
    school = group_name_safe("Lincoln K-8 / Annex, #2")
    root_id = keycloak_admin.create_group({"name": ROOT_GROUP})
    school_id = keycloak_admin.create_group({"name": school}, parent=root_id)
    classes_id = keycloak_admin.create_group({"name": CLASSES_GROUP}, parent=school_id)

    for name in class_names:
        keycloak_admin.create_group({"name": name}, parent=classes_id)

    for name in class_names:
        # python-keycloak's get_group_by_path does not URL-quote: "#" would start a fragment.
        url = f"admin/realms/{realm}/group-by-path{quote(class_path(school, name), safe='/')}"
        response = keycloak_admin.connection.raw_get(url)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["name"] == name


def test_class_names_make_ldap_groups_read_back_unchanged(
    ldap_conn: Connection, ldap_ou: LdapOu, class_names: list[str]
) -> None:
    for name in class_names:
        dn = f"{ldap_rdn(name)},{ldap_ou.groups_dn}"
        assert ldap_conn.add(dn, ["groupOfNames"], {"cn": name, "member": [ldap_ou.dn]}), ldap_conn.result

    for name in class_names:
        found = ldap_conn.search(
            ldap_ou.groups_dn, f"(cn={escape_filter_chars(name)})", attributes=["cn"], size_limit=2
        )
        assert found and len(ldap_conn.entries) == 1, name
        dn = ldap_conn.entries[0].entry_dn
        assert ldap_conn.search(dn, "(objectClass=groupOfNames)", BASE, attributes=["cn"])
        assert name in ldap_conn.entries[0].cn.values


def test_generated_usernames_are_accepted_by_keycloak(keycloak_admin: KeycloakAdmin) -> None:
    people = [
        make_student(district_username="José.O’Brien"),
        make_student(district_username="jose.obrien"),
        make_student(email="Zoë Smith+kids@example.org"),
        make_student(district_username="a/b\\c<d>&e"),
        make_student(),
    ]
    taken: set[str] = set()
    for person in people:
        username = username_for(person, taken)
        taken.add(username)
        user_id = keycloak_admin.create_user({"username": username, "enabled": True})
        assert keycloak_admin.get_user(user_id)["username"] == username
    assert len(taken) == len(people)
