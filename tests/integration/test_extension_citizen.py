"""The clever-sync extension as a Keycloak citizen: who may ask it for which roles, and what it says
of a body that is not the wire format (``keycloak-extension/README.md``)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin

from tests.extension_client import Extension, make_clever_roles
from tests.idp import register_idp

pytestmark = pytest.mark.integration


class ManageUsersOnly:
    """A service account of the realm holding only realm-management's ``manage-users``."""

    def __init__(self, services_env: dict[str, str], realm: str, admin: KeycloakAdmin) -> None:
        client_id = admin.create_client(
            {
                "clientId": "users-only",
                "secret": "s3cret",
                "serviceAccountsEnabled": True,
                "publicClient": False,
            }
        )
        account = admin.get_client_service_account_user(client_id)
        management = admin.get_client_id("realm-management")
        assert management is not None
        admin.assign_client_role(
            account["id"], management, [admin.get_client_role(management, "manage-users")]
        )
        token = requests.post(
            f"{services_env['KEYCLOAK_URL']}/realms/{realm}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials", "client_id": "users-only", "client_secret": "s3cret"},
            timeout=30,
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.url = f"{services_env['KEYCLOAK_URL']}/admin/realms/{realm}/clever-sync/batch"

    def post(self, *operations: dict[str, Any]) -> requests.Response:
        return requests.post(
            self.url, json={"operations": list(operations)}, headers=self.headers, timeout=60
        )


def _person(cid: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "op": "create_user",
        "ref": cid,
        "username": f"p.{cid}",
        "attributes": {"clever_id": [cid], "clever_role": [role]},
        **extra,
    }


def _realm_roles(admin: KeycloakAdmin) -> set[str]:
    return {role["name"] for role in admin.get_realm_roles(brief_representation=True)}


def test_a_manage_users_caller_can_neither_make_roles_nor_grant_clever_admin(
    services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin
) -> None:
    register_idp(keycloak_admin)
    caller = ManageUsersOnly(services_env, realm, keycloak_admin)
    keycloak_admin.create_realm_role({"name": "clever-admin"})
    roles_before = _realm_roles(keycloak_admin)
    assert "clever-student" not in roles_before  # setup has not made the Clever roles yet

    admin_role = caller.post(_person("a1", "teacher", realmRoles=["clever-admin"]))
    missing = caller.post(
        {"op": "create_group", "ref": "root", "name": "Clever", "realmRoles": ["clever-student"]}
    )

    assert admin_role.status_code == 400
    assert admin_role.json()["error"].startswith(
        "operations[0].realmRoles[0]: clever-admin is not a role the sync grants"
    )
    assert missing.status_code == 200
    assert (
        missing.json()["results"][0]["error"]
        == "realm role clever-student does not exist; keycloak-clever setup makes it"
    )
    assert _realm_roles(keycloak_admin) == roles_before  # no role made
    assert keycloak_admin.get_users({"username": "p.a1", "exact": True}) == []
    assert keycloak_admin.get_groups() == []


def test_a_person_gets_only_the_role_of_their_clever_role_and_never_a_composite(
    services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin
) -> None:
    register_idp(keycloak_admin)
    make_clever_roles(keycloak_admin)
    caller = ManageUsersOnly(services_env, realm, keycloak_admin)
    # A role made composite after setup (by hand, or by someone who wanted it to carry more).
    keycloak_admin.add_composite_realm_roles_to_role(
        "clever-staff", [keycloak_admin.get_realm_role("offline_access")]
    )

    answer = caller.post(
        _person("s1", "student", realmRoles=["clever-student"]),
        _person("s2", "student", realmRoles=["clever-teacher"]),  # not a student's role
        _person("s3", "staff", realmRoles=["clever-staff"]),  # composite now: never granted
    )

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "error"], results
    assert "not the role of this person's Clever role" in results[1]["error"]
    assert results[2]["error"] == "realm role clever-staff is composite; the sync grants no composite role"
    s1 = keycloak_admin.get_users({"username": "p.s1", "exact": True})[0]
    assert "clever-student" in {r["name"] for r in keycloak_admin.get_realm_roles_of_user(s1["id"])}
    assert keycloak_admin.get_users({"username": "p.s2", "exact": True}) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"attributes": {"clever_grade": 7}},
            "operations[3].attributes.clever_grade: must be a list of strings",
        ),
        (
            {"attributes": {"clever_grade": ["7", 8]}},
            "operations[3].attributes.clever_grade: must be a list of strings",
        ),
        ({"attributes": {"grade": ["7"]}}, "operations[3].attributes.grade: not a clever_* attribute"),
        ({"enabled": "yes"}, "operations[3].enabled: must be true or false"),
        ({"firstName": 12}, "operations[3].firstName: must be a string"),
        ({"nickname": "Al"}, "operations[3].nickname: unknown field of create_user"),
        ({"username": None}, "operations[3].username: is required"),
        ({"groups": "/Clever"}, "operations[3].groups: must be a list of strings"),
        (
            {"link": {"alias": "google", "userId": "m3"}},
            "operations[3].link.alias: only the clever identity provider is linked",
        ),
        ({"op": "frobnicate"}, "operations[3].op: unknown operation frobnicate"),
    ],
)
def test_a_malformed_item_is_a_400_naming_the_field_and_nothing_is_written(
    keycloak_admin: KeycloakAdmin, extension: Extension, bad: dict[str, Any], message: str
) -> None:
    good = [_person(f"m{n}", "student") for n in range(3)]
    response = requests.post(
        f"{extension.base}/batch",
        json={"operations": [*good, {**_person("m3", "student"), **bad}]},
        headers=extension.headers,
        timeout=60,
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message), response.json()
    assert keycloak_admin.get_users() == []


@pytest.fixture
def extension(services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin) -> Extension:
    register_idp(keycloak_admin)
    make_clever_roles(keycloak_admin)
    return Extension(services_env, realm)
