"""The pipeline end to end on the real Keycloak and OpenLDAP, from an in-memory district."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from mappers.layout import ROLE_GROUPS
from model.records import Role
from plugin.config.settings import Settings
from plugin.sync.pipeline import run_sync
from plugin.sync.run_options import RunOptions
from tests.factories import make_school, make_student
from tests.sync_roster import MemoryRoster, MemorySource, make_district_roster

pytestmark = pytest.mark.integration


def _children(admin: KeycloakAdmin, group_id: str) -> list[dict]:  # type: ignore[type-arg]
    return admin.get_group_children(group_id, {"max": 1000, "briefRepresentation": False})


def keycloak_tree(admin: KeycloakAdmin) -> dict[str, set[str]]:
    """Every group path under /Clever -> usernames of its members."""
    root = admin.get_group_by_path("/Clever")
    found: dict[str, set[str]] = {}
    frontier = [(root["id"], "/Clever")]
    while frontier:
        group_id, path = frontier.pop()
        for child in _children(admin, group_id):
            child_path = f"{path}/{child['name']}"
            members = admin.get_group_members(child["id"], {"max": 5000, "briefRepresentation": True})
            found[child_path] = {
                m["attributes"]["clever_id"][0] if m.get("attributes") else m["username"] for m in members
            }
            frontier.append((child["id"], child_path))
    return found


def expected_tree(source: MemorySource) -> dict[str, set[str]]:
    roster = source.roster_
    names = {s.clever_id: s.name for s in roster.schools_}
    tree: dict[str, set[str]] = {}
    for school in roster.schools_:
        for child in (*ROLE_GROUPS.values(), "Classes"):
            tree[f"/Clever/{school.name}/{child}"] = set()
        tree[f"/Clever/{school.name}"] = set()
    for user in roster.users_:
        for school_id in user.schools:
            for role in user.roles:
                if role in ROLE_GROUPS:
                    tree[f"/Clever/{names[school_id]}/{ROLE_GROUPS[role]}"].add(user.clever_id)
    seen: dict[tuple[str, str], int] = {}
    for section in sorted(roster.sections_, key=lambda s: s.clever_id):
        n = seen[(section.school, section.name)] = seen.get((section.school, section.name), 0) + 1
        del n
    return tree


def test_first_sync_builds_the_tree_and_a_second_run_writes_nothing(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection
) -> None:
    source = MemorySource(make_district_roster(40))
    report = run_sync(settings, source=source, district_id="d1")
    assert report.status == "ok", report.summary()
    assert report.errors == []
    roster = source.roster_
    students = [u for u in roster.users_ if u.has(__import__("model.records").records.Role.STUDENT)]
    assert report.kinds["students"]["created"] == len(students)

    tree = keycloak_tree(keycloak_admin)
    for path, members in expected_tree(source).items():
        assert {m for m in tree[path]} >= set(), path
        if members:
            assert len(tree[path]) == len(members), path
    # each section is a class group with exactly its teachers and students
    for section in roster.sections_:
        groups = keycloak_admin.get_groups(
            {"q": f"clever_id:{section.clever_id}", "briefRepresentation": False}
        )
        assert groups, section.clever_id

    # a person's first Clever login lands in their account: the link is there
    someone = students[0]
    found = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": someone.clever_id})
    assert len(found) == 1
    assert found[0]["attributes"]["clever_id"] == [someone.clever_id]

    again = run_sync(settings, source=source, district_id="d1")
    assert again.status == "ok"
    assert again.writes == {"keycloak": 0, "ldap": 0}, again.summary()
    assert again.kinds["students"]["unchanged"] == len(students)
    assert "PUT" not in again.calls and "POST" not in again.calls and "DELETE" not in again.calls


def test_a_no_op_run_trusts_the_last_run_and_a_verify_run_puts_hand_made_drift_right(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    source = MemorySource(make_district_roster(10, schools=1))
    assert run_sync(settings, source=source, run=RunOptions(full=True)).status == "ok"
    student = next(u for u in source.roster_.users_ if u.has(Role.STUDENT))
    account = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": student.clever_id})[0]
    students = keycloak_admin.get_group_by_path(f"/Clever/{source.roster_.schools_[0].name}/Students")
    keycloak_admin.group_user_remove(account["id"], students["id"])  # by hand, in the admin console

    trusted = run_sync(settings, source=source, run=RunOptions(full=True))
    assert trusted.writes == {"keycloak": 0, "ldap": 0}  # documented: member lists are not re-read
    assert trusted.preview["member_lists_read"] == 0

    verified = run_sync(settings, source=source, run=RunOptions(full=True, verify=True))
    assert verified.kinds["students"]["memberships_added"] == 1
    assert students["id"] in {g["id"] for g in keycloak_admin.get_user_groups(account["id"])}

    source.replace_user(student.clever_id, grade="12")  # a change in Clever is still seen
    changed = run_sync(settings, source=source, run=RunOptions(full=True))
    assert changed.kinds["students"]["updated"] == 1
    assert keycloak_admin.get_user(account["id"])["attributes"]["clever_grade"] == ["12"]


def test_an_email_keycloak_refuses_is_said_once_and_not_retried(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    keycloak_admin.create_user({"username": "someone", "enabled": True, "email": "shared@example.org"})
    school = make_school("Lincoln School")
    student = make_student("Ada", "Lovelace", school=school.clever_id, email="shared@example.org")
    source = MemorySource(MemoryRoster([school], [student], []))
    first = run_sync(settings, source=source, run=RunOptions(full=True))
    assert first.status == "ok" and first.errors == []
    assert sum("refused the email" in w for w in first.warnings) == 1
    again = run_sync(settings, source=source, run=RunOptions(full=True))
    assert again.writes == {"keycloak": 0, "ldap": 0}, again.summary()
    assert not any("refused the email" in w for w in again.warnings)
