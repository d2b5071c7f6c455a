"""The two write paths of new accounts, on the same roster, end in the same Keycloak: through the
clever-sync extension (``connectors.keycloak_bulk``, the services' Keycloak has it installed) and
through the admin REST API alone (``KCC_KEYCLOAK_BULK=false``, or a Keycloak without it)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from keycloak import KeycloakAdmin

from model.records import Section
from model.state import CREATED_MARK
from plugin.config.settings import Settings
from plugin.sso.setup import ensure_service_account
from plugin.sync.pipeline import run_sync
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from tests.conftest import realm_admin
from tests.factories import make_section, make_student, make_teacher
from tests.idp import register_idp
from tests.realm_audit import admin_events, enable_admin_events, stored_timestamps
from tests.sync_roster import MemoryRoster, MemorySource, make_district_roster

pytestmark = pytest.mark.integration
TAKEN = "taken@example.org"  # another account's address in both realms


def _roster() -> MemoryRoster:
    """A generated district plus the cases each path answers in its own way."""
    roster = make_district_roster(40, schools=2)
    school = roster.schools_[0].clever_id
    odd = [
        make_student("Ana", "Taken", school=school, email=TAKEN),  # another account holds it
        make_student("Bo", "Bad", school=school, email="not an address"),  # the realm refuses it
        make_student("C#ris", "Semi;colon", school=school, email="chris@example.org"),  # SIS names
        make_teacher("Dee", "Teach", school=school, email="dee@example.org"),
    ]
    section = make_section(
        "Odd Ones", school=school, teachers=[odd[3].clever_id], students=[p.clever_id for p in odd[:3]]
    )
    return MemoryRoster(roster.schools_, [*roster.users_, *odd], [*roster.sections_, section])


@pytest.fixture
def rest_settings(
    settings: Settings, keycloak_master: KeycloakAdmin, services_env: dict[str, str]
) -> Iterator[Settings]:
    """A second fresh realm, its own service account, and new accounts through REST alone."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    keycloak_master.create_realm({"realm": name, "enabled": True})
    try:
        admin = realm_admin(services_env, name)
        keycloak = dataclasses.replace(
            settings.keycloak, realm=name, client_secret=ensure_service_account(admin), bulk=False
        )
        yield dataclasses.replace(settings, keycloak=keycloak)
    finally:
        keycloak_master.delete_realm(name)


def _prepare(admin: KeycloakAdmin) -> None:
    register_idp(admin)
    admin.create_user({"username": "someone.else", "enabled": True, "email": TAKEN, "firstName": "Some"})
    # A realm default group: Keycloak puts every new account in it, and so must the extension's rows.
    everyone = admin.create_group({"name": "everyone"})
    realm = admin.connection.realm_name
    admin.connection.raw_put(f"admin/realms/{realm}/default-groups/{everyone}", data="{}")


def _people(admin: KeycloakAdmin) -> dict[str, dict[str, Any]]:
    """Every account as a person sees it (ids left out: they differ between realms)."""
    people = {}
    for user in admin.get_users({"briefRepresentation": False}):
        if user["username"].startswith("service-account-"):
            continue
        people[user["username"]] = {
            "names": (user.get("firstName"), user.get("lastName")),
            "created": bool(user.get("createdTimestamp")),
            "email": user.get("email"),
            "enabled": user["enabled"],
            "emailVerified": user.get("emailVerified"),
            "requiredActions": sorted(user.get("requiredActions") or []),
            "roles": sorted(  # the default role's name has the realm's in it
                r["name"].replace(admin.connection.realm_name, "<realm>")
                for r in admin.get_realm_roles_of_user(user["id"])
            ),
            "attributes": {
                k: sorted(v) for k, v in (user.get("attributes") or {}).items() if k != CREATED_MARK
            },
            # The created mark (its time differs between the realms): there, and no later than the
            # account Keycloak made (``plugin.sync.retention.created_by_sync``).
            "created_mark": _marked(user),
            "groups": sorted(g["path"] for g in admin.get_user_groups(user["id"], brief_representation=True)),
            "links": sorted(
                (link["identityProvider"], link["userId"], link["userName"])
                for link in admin.get_user_social_logins(user["id"])
            ),
        }
    return people


def _marked(user: dict[str, Any]) -> bool:
    mark = ((user.get("attributes") or {}).get(CREATED_MARK) or [""])[0]
    if not mark:
        return False
    return datetime.fromisoformat(mark).timestamp() <= user["createdTimestamp"] / 1000 + 1


def _tree(admin: KeycloakAdmin) -> dict[str, Any]:
    """The ``/Clever`` tree as an admin sees it: each group's path, attributes and realm roles."""
    tree: dict[str, Any] = {}

    def walk(group: dict[str, Any]) -> None:
        full = admin.get_group(group["id"])
        roles = admin.get_group_realm_roles(group["id"])
        tree[full["path"]] = (full.get("attributes") or {}, sorted(r["name"] for r in roles))
        for child in admin.get_group_children(group["id"], {"max": 1000}):
            walk(child)

    walk(admin.get_group_by_path("/Clever"))
    return tree


def _differences(made: dict[str, dict[str, Any]], by_rest: dict[str, dict[str, Any]]) -> list[str]:
    """What differs between the two realms' accounts, field by field (the assertion's message)."""
    return [
        f"{name}.{field}: {made.get(name, {}).get(field)!r} != {by_rest.get(name, {}).get(field)!r}"
        for name in sorted(set(made) | set(by_rest))
        for field in sorted(set(made.get(name, {})) | set(by_rest.get(name, {})))
        if made.get(name, {}).get(field) != by_rest.get(name, {}).get(field)
    ]


def _posts(report: SyncReport) -> int:
    return int(report.calls.get("POST", 0))


@pytest.fixture
def rest_admin(
    rest_settings: Settings, keycloak_admin: KeycloakAdmin, services_env: dict[str, str]
) -> KeycloakAdmin:
    """The REST realm's admin client; both realms prepared alike (``_prepare``)."""
    admin = realm_admin(services_env, rest_settings.keycloak.realm)
    for each in (keycloak_admin, admin):
        _prepare(each)
        enable_admin_events(each)  # after the preparation: only the sync's writes are compared
    return admin


def test_the_extension_and_the_rest_path_make_the_same_accounts(
    settings: Settings,
    rest_settings: Settings,
    keycloak_admin: KeycloakAdmin,
    rest_admin: KeycloakAdmin,
    services_env: dict[str, str],
) -> None:
    roster = _roster()
    # No user federation in either realm: the extension writes new accounts as rows (Fresh.java).
    assert not keycloak_admin.get_components({"type": "org.keycloak.storage.UserStorageProvider"})

    bulk = run_sync(settings, RunOptions(full=True), source=MemorySource(roster), district_id="d1")
    rest = run_sync(rest_settings, RunOptions(full=True), source=MemorySource(roster), district_id="d1")

    assert bulk.status == rest.status == "ok", (bulk.summary(), rest.summary())
    # The rows path ran (the pinned Keycloak is one it was verified on), and none of it fell back.
    assert bulk.writer["new_accounts"] == "rows" and bulk.writer["fallbacks"] == 0, bulk.writer
    assert bulk.writer["rows"] >= len(roster.users_) - 2, bulk.writer  # all but the refused address
    assert rest.writer["path"] == "rest", rest.writer
    assert bulk.kinds == rest.kinds
    assert sorted(bulk.warnings) == sorted(rest.warnings)
    assert any("another account holds it" in w for w in bulk.warnings), bulk.warnings  # in words
    made, by_rest = _people(keycloak_admin), _people(rest_admin)
    assert made == by_rest, _differences(made, by_rest)
    # As stored: every account has its creation time, and (26.6+) a last-modified time equal to it.
    stored = stored_timestamps(services_env, keycloak_admin.connection.realm_name)
    assert stored == stored_timestamps(services_env, rest_admin.connection.realm_name)
    assert set(stored.values()) == {(True, True)}, stored
    # The same admin events: a batch records what the REST calls for the same plan record.
    events = admin_events(keycloak_admin)
    assert events == admin_events(rest_admin)
    creates = sum(
        n for (kind, op, _, rep), n in events.items() if (kind, op, rep) == ("USER", "CREATE", True)
    )
    assert creates >= len(roster.users_), events
    tree = _tree(keycloak_admin)
    assert tree == _tree(rest_admin)
    assert len(tree) > 5 and any(roles for _, roles in tree.values()), tree  # role groups, with their role
    assert len(made) == len(roster.users_) + 1  # everyone, and the other account untouched
    assert made["someone.else"]["email"] == TAKEN and made["someone.else"]["links"] == []
    # Both write paths mark the accounts they create, and nothing else.
    assert [n for n, p in made.items() if p["created_mark"] != bool(p["links"])] == [], made
    assert [n for n, p in by_rest.items() if p["created_mark"] != bool(p["links"])] == [], by_rest
    assert all("/everyone" in p["groups"] for p in made.values() if p["links"]), made
    assert all("default-roles-<realm>" in p["roles"] for p in made.values()), made
    # The extension wrote the people and every group below /Clever in a few batches; the REST path
    # posted each one (and granted each role group its role in another POST).
    people, below_root = len(roster.users_), len(tree) - 1
    assert below_root > 5, tree
    assert _posts(bulk) <= _posts(rest) - people - below_root + 10, (bulk.calls, rest.calls)


def _students_moved(roster: MemoryRoster) -> MemoryRoster:
    """The same district with every class's students moved to the next class of their school."""
    by_school: dict[str, list[Section]] = {}
    for section in roster.sections_:
        by_school.setdefault(section.school, []).append(section)
    moved = []
    for sections in by_school.values():
        for n, section in enumerate(sections):
            moved.append(dataclasses.replace(section, students=sections[(n + 1) % len(sections)].students))
    return MemoryRoster(roster.schools_, roster.users_, moved)


def test_membership_changes_through_the_extension_end_as_through_rest(
    settings: Settings, rest_settings: Settings, keycloak_admin: KeycloakAdmin, rest_admin: KeycloakAdmin
) -> None:
    roster = _roster()
    for each in (settings, rest_settings):
        first = run_sync(each, RunOptions(full=True), source=MemorySource(roster), district_id="d1")
        assert first.status == "ok", first.summary()

    before = _people(keycloak_admin)
    moved = _students_moved(roster)
    every_class = RunOptions(full=True, release_brake=True)  # the brake holds a change this large
    bulk = run_sync(settings, every_class, source=MemorySource(moved), district_id="d1")
    rest = run_sync(rest_settings, every_class, source=MemorySource(moved), district_id="d1")

    assert bulk.status == rest.status == "ok", (bulk.summary(), rest.summary())
    made, by_rest = _people(keycloak_admin), _people(rest_admin)
    assert made == by_rest, _differences(made, by_rest)
    events = admin_events(keycloak_admin)
    assert events == admin_events(rest_admin)
    assert any(kind == "GROUP_MEMBERSHIP" and op == "DELETE" for kind, op, _, _ in events), events
    # The students really moved: dozens of people's classes are not what they were.
    assert sum(made[name]["groups"] != before[name]["groups"] for name in made) > 20
    # The moves went in batches: far fewer membership calls than the REST path's one per move.
    assert (
        _posts(bulk) + bulk.calls.get("PUT", 0) + bulk.calls.get("DELETE", 0)
        < (rest.calls.get("PUT", 0) + rest.calls.get("DELETE", 0)) // 4
    ), (bulk.calls, rest.calls)
