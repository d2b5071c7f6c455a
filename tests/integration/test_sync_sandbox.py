"""The sandbox district over real HTTP through ``CleverClient``, into the real Keycloak and OpenLDAP:
the exact expected state, a no-op second run, then sandbox mutations applied from Clever's Events."""

from __future__ import annotations

import json

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection
from ldap3.utils.dn import escape_rdn

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState
from tests.sync_expect import (
    actual_keycloak,
    actual_ldap,
    class_names,
    expected_keycloak,
    expected_ldap,
    raw,
)

pytestmark = pytest.mark.integration
INCREMENTAL = "incremental"


def _run(settings: Settings, state: SyncState, run_id: str, *, full: bool = False) -> SyncReport:
    client = CleverClient(settings.clever)
    report = jobs.run_locked(
        settings, state, settings.clever.district_id, run_id, RunOptions(full=full), source=client
    )
    assert report.status in ("ok", "no-changes"), report.summary()
    assert report.errors == [], report.errors
    return report


def _assert_state(
    sandbox: SandboxState, admin: KeycloakAdmin, conn: Connection, groups_dn: str, **expect: object
) -> dict[str, object]:
    expected = expected_keycloak(sandbox, deleted_users=set(expect.get("deleted_users", ())))  # type: ignore[call-overload]
    actual = actual_keycloak(admin, expected["users"])
    assert actual["users"] == expected["users"]
    assert actual["groups"] == expected["groups"]
    wanted_ldap = expected_ldap(sandbox, groups_dn)
    wanted_ldap.update({dn.lower(): {groups_dn.lower()} for dn in expect.get("retired_ldap", ())})  # type: ignore[attr-defined]
    assert actual_ldap(conn, groups_dn) == wanted_ldap
    return actual


def test_the_sandbox_district_ends_in_exactly_the_expected_state_and_follows_events(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    redis_url: str,
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)  # the Clever identity provider the links point at
    groups_dn = settings.ldap.groups_dn
    state = SyncState.from_url(redis_url)

    first = _run(settings, state, "full1", full=True)
    assert first.kinds["students"]["created"] == 60
    _assert_state(sandbox_state, keycloak_admin, ldap_conn, groups_dn)

    again = _run(settings, state, "noop1", full=True)
    assert again.writes == {"keycloak": 0, "ldap": 0}, again.summary()
    assert again.kinds["students"]["unchanged"] == 60
    # No account read alone: the extension's rows carry every attribute (connectors.keycloak_rows);
    # after a brief listing, attributes as the last run wrote them (fingerprints).
    assert again.preview.get("accounts_read", 0) == 0

    # Changes in Clever, seen through its Events feed.
    schools = raw(sandbox_state, "schools")
    sections = sorted(raw(sandbox_state, "sections"), key=lambda s: s["id"])
    students = sandbox_state.people("student")
    teachers = sandbox_state.people("teacher")
    renamed_student, leaver = students[0], students[1]
    sandbox_state.update(
        "users", renamed_student["id"], {"name": {**renamed_student["name"], "last": "Renamed"}}
    )
    sandbox_state.delete("users", leaver["id"])
    newcomer = sandbox_state.create(
        "users",
        {
            "district": sandbox_state.district_id,
            "name": {"first": "Nova", "last": "Newcomer"},
            "email": "nova.newcomer@students.example.org",
            "roles": {"student": {"school": schools[0]["id"], "grade": "3", "sis_id": "new-1"}},
        },
    )
    in_school = [s for s in sections if s["school"] == schools[0]["id"]]
    target = in_school[0]
    sandbox_state.update("sections", target["id"], {"students": [*target["students"], newcomer["id"]]})
    mover, source_id, target_id = next(
        (student, a["id"], b["id"])
        for a in in_school[1:]
        for b in in_school[1:]
        for student in a["students"]
        if student not in b["students"]
    )
    sandbox_state.move_student(mover, source_id, target_id)
    # A class renamed in a school renamed by the same run: its LDAP group is renamed from where the
    # school's rename took it.
    renamed_class = next(
        s for s in sections if s["school"] == schools[1]["id"] and s["id"] != sections[-1]["id"]
    )
    sandbox_state.update("sections", renamed_class["id"], {"name": "Renamed Class"})
    sandbox_state.update("schools", schools[1]["id"], {"name": "Renamed Middle School"})
    gone = sections[-1]
    gone_name = class_names(sections)[gone["id"]]
    sandbox_state.delete("sections", gone["id"])
    del teachers

    incremental = _run(settings, state, "inc1")
    assert incremental.mode == INCREMENTAL, incremental.summary()
    assert incremental.kinds["students"]["created"] == 1
    assert incremental.kinds["students"]["disabled"] == 1
    # Of the classes the events touch only the deleted one's member list is decided whole: the
    # others changed in one person each (the newcomer, the mover, the leaver), who is decided instead.
    assert incremental.preview["member_lists_read"] == 1, incremental.preview
    gone_school = next(s["name"] for s in raw(sandbox_state, "schools") if s["id"] == gone["school"])
    gone_path = f"/Clever/{gone_school}/Classes/{gone_name}"
    gone_dn = f"cn={escape_rdn(gone_name)},cn={escape_rdn(gone_school)},{groups_dn}"
    actual = _assert_state(
        sandbox_state,
        keycloak_admin,
        ldap_conn,
        groups_dn,
        deleted_users={leaver["id"]},
        retired_ldap=[gone_dn],
    )
    assert actual["retired"] == {gone_path: set()}

    quiet = _run(settings, state, "inc2")
    assert quiet.writes == {"keycloak": 0, "ldap": 0}, quiet.summary()
    assert json.dumps(quiet.to_dict())  # the report stays JSON

    # A full run after one attribute changed: that account alone is read and written (the
    # incremental run kept the fingerprints of the accounts it wrote, as a full run does).
    graded = students[2]
    roles = {**graded["roles"], "student": {**graded["roles"]["student"], "grade": "12"}}
    sandbox_state.update("users", graded["id"], {"roles": roles})
    full = _run(settings, state, "full2", full=True)
    assert full.kinds["students"]["updated"] == 1, full.summary()
    assert full.kinds["students"]["unchanged"] == 59, full.summary()
    assert full.preview.get("accounts_read", 0) <= 1, full.preview  # 0 with the rows: all read in bulk
    account = keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": graded["id"]})[0]
    assert keycloak_admin.get_user(account["id"])["attributes"]["clever_grade"] == ["12"]

    # A student with contacts leaves: Clever changes their contacts too (users.updated). Without
    # Sync Parent Data a contact gets no account, so nobody is new: the realm is not listed.
    named = {
        r["student"]
        for contact in sandbox_state.people("contact")
        for r in contact["roles"]["contact"].get("student_relationships") or []
    }
    second_leaver = next(s for s in students[3:] if s["id"] in named)
    sandbox_state.delete("users", second_leaver["id"])
    departed = _run(settings, state, "inc3")
    assert departed.mode == INCREMENTAL, departed.summary()
    assert departed.kinds["students"]["disabled"] == 1, departed.summary()
    assert departed.preview["realm_listed"] == 0, departed.preview
