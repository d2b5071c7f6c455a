"""The clever-sync Keycloak extension (keycloak-extension/) over HTTP, in the real Keycloak the test
services start (scripts/services builds the jar and installs it in providers/).

Every test sends batches to ``/admin/realms/{realm}/clever-sync/batch`` and then reads what Keycloak
holds through the ordinary admin API: users, attributes, groups, roles, federated links.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors.keycloak_ldap import federate_ldap
from plugin.config.settings import Settings
from plugin.sso.broker import BrokerReport, ensure_user_profile
from tests.conftest import LdapOu
from tests.extension_client import Extension, make_clever_roles
from tests.idp import register_idp

pytestmark = pytest.mark.integration

ROOT_ATTRS = {"clever_key": ["root"]}


@pytest.fixture
def extension(services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin) -> Extension:
    """The extension for the test's realm, which has a ``clever`` identity provider to link to, the
    Clever realm roles (``keycloak-clever setup`` makes them; the extension makes none) and the User
    Profile the sidecar sets before it writes (the extension checks new accounts against it)."""
    register_idp(keycloak_admin)
    make_clever_roles(keycloak_admin)
    ensure_user_profile(keycloak_admin, BrokerReport())
    return Extension(services_env, realm)


def _tree() -> list[dict[str, Any]]:
    return [
        {"op": "create_group", "ref": "root", "name": "Clever", "attributes": ROOT_ATTRS},
        {
            "op": "create_group",
            "ref": "school:1",
            "parentPath": "/Clever",
            "name": "Lincoln High",
            "attributes": {"clever_id": ["s1"]},
        },
        {
            "op": "create_group",
            "ref": "school:1:students",
            "parentRef": "school:1",
            "name": "Students",
            "realmRoles": ["clever-student"],
        },
    ]


def _student(clever_id: str, username: str, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "op": "create_user",
        "ref": clever_id,
        "username": username,
        "firstName": "Seán",
        "lastName": "O'Brien #2",  # a name the default User Profile would refuse: the sync owns names
        "email": f"{username}@example.org",
        "attributes": {"clever_id": [clever_id], "clever_role": ["student"], "clever_grade": ["9"]},
        "groups": ["/Clever/Lincoln High/Students"],
        "link": {"alias": "clever", "userId": clever_id, "userName": username},
    }
    op.update(extra)
    return op


def _user(admin: KeycloakAdmin, username: str) -> dict[str, Any]:
    found = [u for u in admin.get_users({"username": username, "exact": True}) if u["username"] == username]
    assert len(found) == 1, found
    user: dict[str, Any] = admin.get_user(found[0]["id"], user_profile_metadata=False)
    user["groups"] = sorted(g["path"] for g in admin.get_user_groups(user["id"]))
    user["links"] = {(x["identityProvider"], x["userId"]) for x in admin.get_user_social_logins(user["id"])}
    user["roles"] = {r["name"] for r in admin.get_realm_roles_of_user(user["id"])}
    return user


def _children(admin: KeycloakAdmin, path: str) -> list[str]:
    group_id = admin.get_group_by_path(path)["id"]
    return sorted(g["name"] for g in admin.get_group_children(group_id, {"first": 0, "max": 100}))


def _raw_attributes(admin: KeycloakAdmin, user_id: str) -> dict[str, list[str]]:
    """Attributes as stored: the test realm's User Profile would hide undeclared ones."""
    admin.update_realm_users_profile(
        {**admin.get_realm_users_profile(), "unmanagedAttributePolicy": "ADMIN_VIEW"}
    )
    attributes: dict[str, list[str]] = admin.get_user(user_id, user_profile_metadata=False)["attributes"]
    return attributes


def test_probe_names_version_and_operations(services_env: dict[str, str], extension: Extension) -> None:
    response = requests.get(f"{extension.base}/", headers=extension.headers, timeout=30)
    assert response.status_code == 200
    probe = response.json()
    assert probe["extension"] == "clever-sync"
    assert probe["version"] == "0.1.0"
    assert set(probe["operations"]) == {
        "create_user",
        "update_user",
        "disable_user",
        "add_member",
        "remove_member",
        "create_group",
        "update_group",
    }
    assert requests.get(f"{extension.base}/", timeout=30).status_code == 401


def _client_token(
    services_env: dict[str, str], realm: str, admin: KeycloakAdmin, client: str, roles: list[str]
) -> dict[str, str]:
    """The headers of a service account with just ``roles`` of realm-management."""
    client_id = admin.create_client(
        {"clientId": client, "secret": "s3cret", "serviceAccountsEnabled": True, "publicClient": False}
    )
    account = admin.get_client_service_account_user(client_id)
    management = admin.get_client_id("realm-management")
    assert management is not None
    if roles:
        admin.assign_client_role(
            account["id"], management, [admin.get_client_role(management, r) for r in roles]
        )
    token = requests.post(
        f"{services_env['KEYCLOAK_URL']}/realms/{realm}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": client, "client_secret": "s3cret"},
        timeout=30,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_caller_without_manage_users_is_refused(
    services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    headers = _client_token(services_env, realm, keycloak_admin, "reader", ["view-users"])
    body = {"operations": _tree()}
    assert requests.post(f"{extension.base}/batch", json=body, headers=headers, timeout=30).status_code == 403
    assert keycloak_admin.get_groups() == []


def test_the_reads_need_view_users(
    services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    """Every read of the realm (the links, the rows, a scope's rows) is refused to a caller that may
    not view users, and answered to one that may."""
    scope = {"users": [], "groups": []}
    reads = [("GET", "links", None), ("GET", "state/users", None), ("POST", "state/scope", scope)]
    for client, roles, status in (("nobody", [], 403), ("viewer", ["view-users"], 200)):
        headers = _client_token(services_env, realm, keycloak_admin, client, roles)
        for method, path, body in reads:
            answer = requests.request(
                method, f"{extension.base}/{path}", json=body, headers=headers, timeout=30
            )
            assert answer.status_code == status, (client, path, answer.text)


def test_batch_creates_people_with_groups_roles_links_and_a_replay_changes_nothing(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    operations = [
        *_tree(),
        _student("c1", "ana.diaz", realmRoles=["clever-student"]),
        _student("c2", "bo.li"),
    ]
    first = extension.batch(*operations)
    assert [r["status"] for r in first] == ["created"] * 5, first

    ana = _user(keycloak_admin, "ana.diaz")
    assert ana["id"] == first[3]["id"]
    assert (ana["firstName"], ana["lastName"], ana["email"], ana["enabled"]) == (
        "Seán",
        "O'Brien #2",
        "ana.diaz@example.org",
        True,
    )
    assert ana["groups"] == ["/Clever/Lincoln High/Students"]
    assert ana["links"] == {("clever", "c1")}
    assert "clever-student" in ana["roles"]
    attributes = _raw_attributes(keycloak_admin, ana["id"])
    assert {k: v for k, v in attributes.items() if k.startswith("clever_")} == {
        "clever_id": ["c1"],
        "clever_role": ["student"],
        "clever_grade": ["9"],
    }
    students = keycloak_admin.get_group_by_path("/Clever/Lincoln High/Students")
    assert students["attributes"] == {"clever_key": ["school:1:students"]}
    assert [r["name"] for r in keycloak_admin.get_group_realm_roles(students["id"])] == ["clever-student"]

    second = extension.batch(*operations)
    assert [r["status"] for r in second] == ["unchanged"] * 5, second
    assert [r["id"] for r in second] == [r["id"] for r in first]
    assert keycloak_admin.users_count() == 2
    assert len(_children(keycloak_admin, "/Clever/Lincoln High")) == 1


def test_bad_items_are_reported_and_the_rest_of_the_batch_is_written(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    extension.batch(*_tree())
    keycloak_admin.create_user({"username": "taken", "email": "shared@example.org", "enabled": True})
    keycloak_admin.create_group({"name": "Staff Only"})
    results = extension.batch(
        _student("c1", "taken"),  # an account the sync does not own has the username
        _student("c2", "ok.one", email="shared@example.org"),  # the address is taken: created without
        _student("c3", "ctl\u0007name"),
        _student("c4", "long.name", firstName="x" * 256),
        _student("c5", "bad.mail", email="not an address"),
        _student("c6", "outside", groups=["/Staff Only"]),
        _student("c7", "dup", attributes={"clever_id": ["c7"]}),
        _student("c8", "dup", attributes={"clever_id": ["c8"]}),  # same username twice in one batch
        {"op": "create_group", "ref": "x", "parentPath": "/Staff Only", "name": "Sneaky"},
        {"op": "create_group", "ref": "y", "parentPath": "/Clever", "name": "Lincoln High"},  # sibling taken
    )
    statuses = [(r["ref"] if "ref" in r else r["op"], r["status"]) for r in results]
    assert statuses == [
        ("c1", "error"),
        ("c2", "created"),
        ("c3", "error"),
        ("c4", "error"),
        ("c5", "error"),
        ("c6", "error"),
        ("c7", "created"),
        ("c8", "error"),
        ("x", "error"),
        ("y", "error"),
    ]
    assert all(r["error"] for r in results if r["status"] == "error")
    assert "not own" in results[0]["error"]
    assert results[2]["error"] == "username: contains a control character"
    assert results[3]["error"] == "firstName: longer than 255 characters"
    assert results[4]["error"] == "email: not a valid address"
    assert results[1]["emailRefused"] is True
    ok = _user(keycloak_admin, "ok.one")
    assert "email" not in ok and ok["links"] == {("clever", "c2")}
    assert _user(keycloak_admin, "dup")["links"] == {("clever", "c7")}
    taken = _user(keycloak_admin, "taken")
    assert taken["links"] == set() and taken["email"] == "shared@example.org"
    assert sorted(u["username"] for u in keycloak_admin.get_users()) == ["dup", "ok.one", "taken"]
    assert _children(keycloak_admin, "/Clever") == ["Lincoln High"]
    assert _children(keycloak_admin, "/Staff Only") == []


def test_updates_memberships_disables_and_renames(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    created = extension.batch(
        *_tree(),
        {"op": "create_group", "ref": "section:9", "parentRef": "school:1", "name": "Algebra"},
        {"op": "create_group", "ref": "section:10", "parentRef": "school:1", "name": "Biology"},
        _student("c1", "ana.diaz"),
        _student("c2", "bo.li"),
    )
    ids = {r["ref"]: r["id"] for r in created}
    results = extension.batch(
        {
            "op": "update_user",
            "id": ids["c1"],
            "ref": "c1",
            "fields": {"lastName": "Diaz-Ortiz"},
            "attributes": {"clever_grade": ["10"], "clever_role": []},
        },
        {"op": "add_member", "userRef": "c1", "groupRef": "section:9"},
        {"op": "add_member", "userId": ids["c2"], "groupId": ids["section:9"]},
        {"op": "remove_member", "userId": ids["c2"], "groupPath": "/Clever/Lincoln High/Students"},
        {"op": "disable_user", "id": ids["c2"], "ref": "c2", "removedAt": "2026-12-01T10:00:00Z"},
        {"op": "update_group", "id": ids["section:9"], "ref": "section:9", "name": "Algebra I"},
        {"op": "update_group", "id": ids["section:10"], "name": "Algebra I"},  # the sibling has it now
        {"op": "update_group", "id": ids["root"], "name": "Elsewhere"},  # the root stays /Clever
    )
    assert [r["status"] for r in results] == ["updated"] * 6 + ["error", "error"], results

    ana = _user(keycloak_admin, "ana.diaz")
    assert ana["lastName"] == "Diaz-Ortiz"
    assert ana["groups"] == ["/Clever/Lincoln High/Algebra I", "/Clever/Lincoln High/Students"]
    attributes = _raw_attributes(keycloak_admin, ana["id"])
    assert attributes["clever_grade"] == ["10"] and "clever_role" not in attributes
    bo = _user(keycloak_admin, "bo.li")
    assert bo["enabled"] is False and bo["groups"] == ["/Clever/Lincoln High/Algebra I"]
    assert _raw_attributes(keycloak_admin, bo["id"])["clever_removed_at"] == ["2026-12-01T10:00:00Z"]
    assert _children(keycloak_admin, "/Clever/Lincoln High") == ["Algebra I", "Biology", "Students"]

    again = extension.batch(
        {"op": "add_member", "userRef": "c1", "groupRef": "section:9"},
        {"op": "disable_user", "id": ids["c2"], "ref": "c2", "removedAt": "2026-12-08T10:00:00Z"},
        {"op": "update_group", "id": ids["section:9"], "ref": "section:9", "name": "Algebra I"},
    )
    assert [r["status"] for r in again] == ["unchanged"] * 3
    assert _raw_attributes(keycloak_admin, bo["id"])["clever_removed_at"] == ["2026-12-01T10:00:00Z"]


def test_people_are_found_by_their_owned_link_and_a_clever_id_attribute_proves_nothing(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    """The batch reads the realm's links once when it starts (``Known``): the people whose owned
    link it finds are theirs; an account that only carries a ``clever_id`` (data: an unlink, or a
    hand edit) is nobody's, is not written, and a replay changes nothing (``model.ownership``)."""
    extension.batch(*_tree(), _student("c1", "ana.diaz"))
    keycloak_admin.update_realm_users_profile(
        {**keycloak_admin.get_realm_users_profile(), "unmanagedAttributePolicy": "ADMIN_EDIT"}
    )
    carrying = keycloak_admin.create_user(
        {"username": "bo.li", "enabled": True, "attributes": {"clever_id": ["c2"]}}
    )
    plain = keycloak_admin.create_user({"username": "cy.wu", "enabled": True})
    results = extension.batch(
        _student("c1", "ana.diaz"),
        _student("c2", "bo.li"),
        {"op": "add_member", "userRef": "c2", "groupPath": "/Clever/Lincoln High"},
        {"op": "update_user", "id": plain, "adopt": True, "ref": "c3", "link": True},
    )
    results += extension.batch(
        {"op": "update_user", "id": plain, "ref": "c3", "attributes": {"clever_id": ["c4"]}},
        {"op": "add_member", "userRef": "c4", "groupPath": "/Clever/Lincoln High"},
    )
    assert [r["status"] for r in results] == ["unchanged", "error", "error", "updated", "updated", "error"], [
        r.get("error") for r in results
    ]
    assert "taken by an account the sync does not own" in results[1]["error"]
    assert results[2]["error"] == results[5]["error"] == "no such user"
    bo = _user(keycloak_admin, "bo.li")
    assert (bo["id"], bo["links"], bo["groups"]) == (carrying, set(), [])
    cy = _user(keycloak_admin, "cy.wu")
    assert cy["links"] == {("clever", "c3")}
    owned = [link["userName"] for link in keycloak_admin.get_user_social_logins(plain)]
    assert owned == ["clever-sync:c3"]
    again = extension.batch(_student("c1", "ana.diaz"), {"op": "update_user", "id": plain, "ref": "c3"})
    assert [r["status"] for r in again] == ["unchanged", "unchanged"], again


def test_accounts_the_sync_does_not_own_are_adopted_only_when_named_with_adopt(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    extension.batch(*_tree())
    teacher = keycloak_admin.create_user({"username": "mr.jones", "firstName": "Tom", "enabled": True})
    boss = keycloak_admin.create_user({"username": "boss", "enabled": True})
    management = keycloak_admin.get_client_id("realm-management")
    assert management is not None
    keycloak_admin.assign_client_role(
        boss, management, [keycloak_admin.get_client_role(management, "manage-users")]
    )
    link = {"alias": "clever", "userId": "t1"}
    update = {"op": "update_user", "ref": "t1", "attributes": {"clever_id": ["t1"]}, "link": link}
    results = extension.batch(
        {**update, "id": teacher},  # no adopt flag: not the sync's account
        {"op": "disable_user", "id": teacher, "removedAt": "2026-12-01"},
        {"op": "add_member", "userId": teacher, "groupPath": "/Clever/Lincoln High"},
        {**update, "id": boss, "adopt": True, "link": {"alias": "clever", "userId": "t2"}, "ref": "t2"},
        {**update, "id": teacher, "adopt": True, "groups": ["/Clever/Lincoln High"]},
    )
    assert [r["status"] for r in results] == ["error", "error", "error", "error", "updated"], results
    assert "administrators" in results[3]["error"]
    jones = _user(keycloak_admin, "mr.jones")
    assert jones["links"] == {("clever", "t1")} and jones["enabled"] is True and jones["firstName"] == "Tom"
    assert jones["groups"] == ["/Clever/Lincoln High"]
    assert _user(keycloak_admin, "boss")["links"] == set()
    # Now it is the sync's: a plain update and a second link to another Clever id behave accordingly.
    later = extension.batch(
        {"op": "update_user", "id": teacher, "ref": "t1", "fields": {"lastName": "Jones"}},
        {"op": "update_user", "id": teacher, "ref": "t9", "link": {"alias": "clever", "userId": "t9"}},
    )
    assert [r["status"] for r in later] == ["updated", "error"], later
    assert _user(keycloak_admin, "mr.jones")["lastName"] == "Jones"


def test_an_item_keycloak_refuses_while_writing_is_dropped_and_the_batch_retried_without_it(
    settings: Settings,
    keycloak_admin: KeycloakAdmin,
    extension: Extension,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
) -> None:
    """A READ_ONLY LDAP account refuses a name change only when it is written (no pre-check can
    see it): the batch's transaction is rolled back and applied again without that item."""
    assert ldap_conn.add(
        f"uid=mgarcia,{ldap_ou.people_dn}", ["inetOrgPerson"], {"cn": "María", "sn": "García"}
    )
    federate_ldap(keycloak_admin, settings.ldap, mode="READ_ONLY")
    garcia = _user(keycloak_admin, "mgarcia")["id"]
    adopted = extension.batch(
        *_tree(),
        {
            "op": "update_user",
            "id": garcia,
            "ref": "t1",
            "adopt": True,
            "link": {"alias": "clever", "userId": "t1"},
            "groups": ["/Clever/Lincoln High"],
        },
    )
    assert adopted[-1]["status"] == "updated", adopted
    results = extension.batch(
        _student("c1", "ana.diaz"),
        {"op": "update_user", "id": garcia, "ref": "t1", "fields": {"enabled": False, "lastName": "Garcia"}},
        _student("c2", "bo.li"),
    )
    assert [r["status"] for r in results] == ["created", "error", "created"], results
    assert "Keycloak refused the write" in results[1]["error"]
    assert {u["username"] for u in keycloak_admin.get_users()} == {"ana.diaz", "bo.li", "mgarcia"}
    garcia_now = _user(keycloak_admin, "mgarcia")
    assert (garcia_now["lastName"], garcia_now["enabled"]) == ("García", True)  # the whole item rolled back
    assert garcia_now["links"] == {("clever", "t1")} and garcia_now["groups"] == ["/Clever/Lincoln High"]
    assert _user(keycloak_admin, "ana.diaz")["groups"] == ["/Clever/Lincoln High/Students"]


def test_two_batches_at_once_wanting_one_address_both_land_and_one_account_holds_it(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    """Batches in flight at once cannot see each other's new accounts: the second to commit finds
    the address taken only when its rows are written, and is written again through the model API
    (CleverSyncResource), so everyone else in it still lands and the address has one holder."""
    extension.batch(*_tree())
    shared = "twin@example.org"
    batches = [
        [*(_student(f"{side}{n}", f"{side}.{n}") for n in range(300)), _student(f"{side}-t", f"{side}.t")]
        for side in ("a", "b")
    ]
    for batch in batches:
        batch[-1]["email"] = shared
    start = threading.Barrier(2)

    def send(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start.wait()
        return extension.batch(*batch)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, batches))

    assert keycloak_admin.users_count() >= 600
    for answer in answers:
        assert [r["status"] for r in answer[:-1]] == ["created"] * 300, answer[:3]
    holders = keycloak_admin.get_users({"email": shared, "exact": True})
    assert len(holders) == 1, holders
    twins = [answer[-1] for answer in answers]
    # The twin without the address was refused it in words, or made without it: never a second holder.
    assert sum(1 for t in twins if t["status"] == "created" and not t.get("emailRefused")) == 1, twins
