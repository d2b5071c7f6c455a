"""Issue 5 behaviours end to end: the sandbox over HTTP into the real Keycloak, OpenLDAP and Redis.

Sync Parent Data on and off, a dry run, bad records, Clever failing mid-read, and Force Unique
Class Names (on, then off: renamed in place). Each test asserts what an admin would see: the
Keycloak accounts and groups, the LDAP groups and the run's report.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from flask import Flask, request
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection
from ldap3.utils.dn import escape_rdn

from connectors.clever import CleverClient
from model.base import TransientError
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app
from sandbox.config import Clock, FaultSpec, SandboxConfig
from sandbox.faults import Fault, FaultInjector
from sandbox.state import SandboxState
from tests.hard_roster import accounts as _accounts
from tests.hard_roster import members as _members
from tests.sync_expect import actual_keycloak, actual_ldap, class_names, expected_keycloak, expected_ldap, raw

pytestmark = pytest.mark.integration
REDIS_DB = 14  # this file's own database, through conftest's redis_url
KIND_OF = {
    "district_admin": "district_admins",
    "teacher": "teachers",
    "staff": "staff",
    "student": "students",
}
PRIORITY = ("district_admin", "teacher", "staff", "student")
Obj = dict[str, Any]


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def sandbox_app(sandbox_clock: Clock) -> Flask:
    """A small district (40 students) keeps each test well under 20 s."""
    return create_app(SandboxConfig(size=40, seed=11, clock=sandbox_clock))


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


# -- helpers ----------------------------------------------------------------------------------------


def _with(settings: Settings, **options: Any) -> Settings:
    return dataclasses.replace(settings, options=dataclasses.replace(settings.options, **options))


def _run(
    settings: Settings, state: SyncState, run_id: str, client: CleverClient | None = None, **kwargs: Any
) -> SyncReport:
    """One full run through the job boundary (the report is stored as for a real run); ``kwargs``:
    ``RunOptions`` flags and ``run_locked``'s own (``school_ids``)."""
    flags = {
        name: kwargs.pop(name) for name in ("dry_run", "trigger", "release_brake", "verify") if name in kwargs
    }
    return jobs.run_locked(
        settings,
        state,
        settings.clever.district_id,
        run_id,
        RunOptions(full=kwargs.pop("full", True), **flags),
        source=client or CleverClient(settings.clever),
        **kwargs,
    )


def _ok(report: SyncReport) -> SyncReport:
    assert report.status == "ok", report.summary()
    return report


def _roles(user: Obj) -> list[str]:
    return [r for r in PRIORITY if (user.get("roles") or {}).get(r) is not None]


def _schools_of(user: Obj) -> set[str]:
    found: set[str] = set()
    for role in ("student", "teacher", "staff"):
        data = (user.get("roles") or {}).get(role)
        if isinstance(data, dict):
            found.update(s for s in [data.get("school"), *(data.get("schools") or [])] if s)
    return found


def _snapshot(admin: KeycloakAdmin) -> dict[str, Any]:
    """Every account (enabled, attributes) and every group under /Clever with its members."""
    users = {
        u["id"]: (u.get("enabled"), json.dumps(u.get("attributes") or {}, sort_keys=True))
        for u in admin.get_users({"briefRepresentation": False, "max": 5000})
    }
    groups: dict[str, set[str]] = {}
    frontier = [(admin.get_group_by_path("/Clever")["id"], "/Clever")]
    while frontier:
        group_id, path = frontier.pop()
        groups[path] = {m["id"] for m in admin.get_group_members(group_id, {"max": 5000})}
        for child in admin.get_group_children(group_id, {"max": 1000, "briefRepresentation": False}):
            attributes = json.dumps(child.get("attributes") or {}, sort_keys=True)
            frontier.append((child["id"], f"{path}/{child['name']}#{attributes}"))
    return {"users": users, "groups": groups}


def _classes(admin: KeycloakAdmin, school_names: list[str]) -> dict[str, tuple[str, str, str]]:
    """Section id -> (Keycloak group id, name, school name) of every class group."""
    found: dict[str, tuple[str, str, str]] = {}
    for school in school_names:
        classes = admin.get_group_by_path(f"/Clever/{school}/Classes")
        for child in admin.get_group_children(classes["id"], {"max": 1000, "briefRepresentation": False}):
            section_id = child["attributes"]["clever_id"][0]
            assert section_id not in found, f"two class groups for section {section_id}"
            found[section_id] = (child["id"], child["name"], school)
    return found


def _bare_name(name: str | None, section_id: str) -> str:
    return " ".join((name or f"Section {section_id}").split())


# -- 1. Sync Parent Data ----------------------------------------------------------------------------


def test_sync_parent_data_makes_parent_accounts_of_in_scope_contacts_and_lists_the_skipped(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    state: SyncState,
) -> None:
    schools = {s["id"]: s["name"] for s in raw(sandbox_state, "schools")}
    chosen = sorted(schools)[0]
    students = {u["id"]: u for u in raw(sandbox_state, "users") if "student" in _roles(u)}
    in_scope = sorted(sid for sid, u in students.items() if chosen in _schools_of(u))
    outside = sorted(sid for sid, u in students.items() if chosen not in _schools_of(u))
    # A contact of our own: a surname with particles, a phone, one student in scope, one outside.
    own = sandbox_state.create(
        "users",
        {
            "district": sandbox_state.district_id,
            "email": "maria.delacruz@example.org",
            "name": {"last": "María de la Cruz"},
            "roles": {
                "contact": {
                    "phone": "555-0142",
                    "phone_type": "Cell",
                    "student_relationships": [
                        {"student": in_scope[0], "relationship": "Aunt", "type": "Relative"},
                        {"student": outside[0], "relationship": "Aunt", "type": "Relative"},
                    ],
                }
            },
        },
    )
    contacts = [u for u in raw(sandbox_state, "users") if (u.get("roles") or {}).get("contact") is not None]

    # What an admin should find, from the raw Clever JSON.
    expected: dict[str, Obj] = {}
    skipped: dict[str, str] = {}
    of_student: dict[str, set[str]] = {}
    for contact in contacts:
        data = contact["roles"]["contact"]
        lines = [r for r in data.get("student_relationships") or [] if r["student"] in in_scope]
        if not lines:
            skipped[contact["id"]] = "no student in scope"
            continue
        if not contact.get("email"):
            skipped[contact["id"]] = "no email"
            continue
        assert not (contact.get("name") or {}).get("first"), "Clever gives contacts name.last only"
        words = contact["name"]["last"].split()
        first, last = (
            (" ".join(words[:-1]), words[-1]) if contact["id"] != own["id"] else ("María", "de la Cruz")
        )
        expected[contact["id"]] = {
            "firstName": first,
            "lastName": last,
            "email": contact["email"],
            "clever_phone": [data["phone"]] if data.get("phone") else None,
            "clever_relationships": sorted(f"{r['student']}|{r['relationship']}|{r['type']}" for r in lines),
        }
        for r in lines:
            of_student.setdefault(r["student"], set()).add(f"{contact['id']}|{r['relationship']}|{r['type']}")
    assert own["id"] in expected and len(expected) >= 3
    assert "no email" in skipped.values() and "no student in scope" in skipped.values()
    assert all(len(c["name"]["last"].split()) == 2 for c in contacts if c["id"] != own["id"]), (
        "plain two-word names"
    )

    report = _ok(
        _run(_with(clever_settings, sync_parent_data=True), state, "parents-on", school_ids=(chosen,))
    )

    accounts = _accounts(keycloak_admin)
    found = {
        cid: {
            "firstName": u.get("firstName"),
            "lastName": u.get("lastName"),
            "email": u.get("email"),
            "clever_phone": u["attributes"].get("clever_phone"),
            "clever_relationships": sorted(u["attributes"].get("clever_relationships") or []),
        }
        for cid, u in accounts.items()
        if cid in {c["id"] for c in contacts}
    }
    assert found == expected
    assert _members(keycloak_admin, f"/Clever/{schools[chosen]}/Parents") == set(expected)
    root = keycloak_admin.get_group_by_path("/Clever")
    assert [g["name"] for g in keycloak_admin.get_group_children(root["id"])] == [schools[chosen]]
    # The other side: each student in scope lists their parents.
    relationships_of = {
        sid: set(accounts[sid]["attributes"].get("clever_relationships") or []) for sid in in_scope
    }
    assert relationships_of == {sid: of_student.get(sid, set()) for sid in in_scope}
    assert report.kinds["parents"]["created"] == len(expected)
    listed = {s["clever_id"]: s["reason"] for s in report.skipped if s["kind"] == "parents"}
    assert listed == skipped


def test_with_sync_parent_data_off_no_contact_gets_an_account(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    state: SyncState,
) -> None:
    contacts = {u["id"] for u in raw(sandbox_state, "users") if "contact" in (u.get("roles") or {})}
    people = {u["id"] for u in raw(sandbox_state, "users") if _roles(u)}
    assert contacts and people

    report = _ok(_run(clever_settings, state, "parents-off"))

    accounts = _accounts(keycloak_admin)
    assert set(accounts) == people  # every student, teacher and staff; no contact
    assert report.kinds["parents"] == dict.fromkeys(report.kinds["parents"], 0)
    assert not [s for s in report.skipped if s["kind"] == "parents"]
    for school in raw(sandbox_state, "schools"):
        assert _members(keycloak_admin, f"/Clever/{school['name']}/Parents") == set()


# -- 2. Dry run ------------------------------------------------------------------------------------


def test_a_dry_run_reports_the_plan_and_writes_nothing(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    state: SyncState,
) -> None:
    users = raw(sandbox_state, "users")
    wanted = dict.fromkeys(("students", "teachers", "staff", "district_admins"), 0)
    for user in users:
        if roles := _roles(user):
            wanted[KIND_OF[roles[0]]] += 1
    sections = len(raw(sandbox_state, "sections"))
    schools = len(raw(sandbox_state, "schools"))
    groups_dn = clever_settings.ldap.groups_dn

    dry = _run(clever_settings, state, "dry", dry_run=True)

    assert dry.status == "dry-run", dry.summary()
    assert dry.dry_run and dry.errors == []
    created = {kind: dry.kinds[kind]["created"] for kind in (*wanted, "schools", "classes")}
    assert created == {**wanted, "schools": schools, "classes": sections}
    assert dry.ldap["groups_created"] == schools + sections
    assert state.report("dry") is not None and state.report("dry").status == "dry-run"  # type: ignore[union-attr]
    # Nothing in Keycloak or LDAP.
    assert keycloak_admin.get_users({"max": 10}) == []
    assert keycloak_admin.get_groups() == []
    assert not [r for r in keycloak_admin.get_realm_roles() if r["name"].startswith("clever-")]
    ldap_conn.search(groups_dn, "(objectClass=groupOfNames)", SUBTREE, attributes=["cn"])
    assert ldap_conn.entries == []

    # The plan it showed is the one a real run then carries out.
    real = _ok(_run(clever_settings, state, "real"))
    assert {kind: real.kinds[kind]["created"] for kind in created} == created
    assert real.ldap == dry.ldap
    assert len(_accounts(keycloak_admin)) == sum(wanted.values())


def test_a_dry_run_leaves_the_realm_s_user_profile_alone(
    clever_settings: Settings, keycloak_admin: KeycloakAdmin, state: SyncState
) -> None:
    before = keycloak_admin.get_realm_users_profile()
    assert _run(clever_settings, state, "dry", dry_run=True).status == "dry-run"
    assert keycloak_admin.get_realm_users_profile() == before


# -- 3. Bad records ----------------------------------------------------------------------------------


def _bad_records(sandbox: SandboxState) -> dict[str, str]:
    """Records Clever could send, written straight into the sandbox's store (its mutations would
    refuse them): a student without a name, one whose name Keycloak's User Profile refuses, and a
    section naming a student who does not exist. Returns their ids."""
    school = sorted(s["id"] for s in raw(sandbox, "schools"))[0]
    sections = sorted((s for s in raw(sandbox, "sections") if s["school"] == school), key=lambda s: s["id"])
    ids = {"no_name": "6aaa000000000000000000a1", "rejected": "6aaa000000000000000000a2"}
    ids["ghost"] = "6aaa0000000000000000dead"

    def student(clever_id: str, name: Obj, username: str) -> Obj:
        return {
            "id": clever_id,
            "district": sandbox.district_id,
            "email": f"{username}@students.example.org",
            "name": name,
            "roles": {
                "student": {
                    "school": school,
                    "schools": [school],
                    "grade": "4",
                    "sis_id": username,
                    "credentials": {"district_username": username},
                }
            },
        }

    with sandbox.lock:
        sandbox.store.put("users", student(ids["no_name"], {"first": "", "middle": "", "last": ""}, "nn1"))
        sandbox.store.put(
            "users", student(ids["rejected"], {"first": "Beatriz <Bea>", "last": "Santos"}, "bs1")
        )
        first, second = sections[0], sections[1]
        sandbox.store.put(
            "sections", {**first, "students": [*first["students"], ids["no_name"], ids["rejected"]]}
        )
        sandbox.store.put("sections", {**second, "students": [*second["students"], ids["ghost"]]})
    ids["ghost_section"] = second["id"]
    return ids


def test_bad_records_are_skipped_with_a_reason_and_everyone_else_is_synced(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    state: SyncState,
) -> None:
    ensure_broker(keycloak_admin, clever_settings)  # the links the expected state checks
    bad = _bad_records(sandbox_state)

    report = _ok(_run(clever_settings, state, "bad"))

    skipped = {s["clever_id"]: s["reason"] for s in report.skipped if s["kind"] != "sections"}
    assert "no name" in skipped.get(bad["no_name"], "")
    # A name the default User Profile refuses ("<Bea>") is accepted: the sync owns the validators.
    assert set(skipped) == {bad["no_name"]}, report.skipped
    # Everyone else, and every group, exactly as the roster says.
    expected = expected_keycloak(sandbox_state)
    del expected["users"][bad["no_name"]]
    for group in expected["groups"].values():
        group["members"].discard(bad["no_name"])
    actual = actual_keycloak(keycloak_admin, expected["users"])
    assert actual["users"] == expected["users"]
    assert actual["groups"] == expected["groups"]
    groups_dn = clever_settings.ldap.groups_dn
    assert actual_ldap(ldap_conn, groups_dn) == expected_ldap(sandbox_state, groups_dn)


def test_a_dangling_reference_is_named_in_the_report(
    clever_settings: Settings, sandbox_state: SandboxState, state: SyncState
) -> None:
    bad = _bad_records(sandbox_state)
    report = _ok(_run(clever_settings, state, "dangling"))
    # The section itself is synced with its real members; the report should say which reference
    # it dropped (the missing student's id), as it does for every other skipped record.
    dangling = [s for s in report.skipped if s["clever_id"] == bad["ghost"]]
    assert [s["kind"] for s in dangling] == ["sections"], report.skipped
    assert bad["ghost_section"] in dangling[0]["reason"]


# -- 4. Clever fails mid-run -----------------------------------------------------------------------


class _FailAfterFirstUsersPage:
    """The sandbox answers until the second page of /users, then every request fails
    (500/502/503 or a dropped connection, from the sandbox's own injector)."""

    def __init__(self) -> None:
        self.inner = FaultInjector(FaultSpec(error_rate=0.5, drop=1.0, seed=5))
        self.failed = 0

    def next(self) -> Fault:
        if self.failed or (request.path.endswith("/users") and request.args.get("starting_after")):
            self.failed += 1
            return self.inner.next()
        return Fault()


def test_clever_failing_mid_read_fails_the_run_and_disables_or_removes_nothing(
    clever_settings: Settings,
    sandbox_app: Flask,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    state: SyncState,
) -> None:
    district = clever_settings.clever.district_id
    _ok(_run(clever_settings, state, "full"))
    cursor = state.cursor(district)
    before = _snapshot(keycloak_admin)
    leavers = [s["id"] for s in sandbox_state.people("student")[:2]]  # under the brake's 10%
    for clever_id in leavers:
        sandbox_state.delete("users", clever_id)

    faults = _FailAfterFirstUsersPage()
    sandbox_app.extensions["clever_sandbox_faults"] = faults
    flaky = CleverClient(clever_settings.clever, page_size=20, max_retries=2, backoff=0.01, max_backoff=0.02)
    with pytest.raises(TransientError, match="gave up after 3 tries"):
        _run(clever_settings, state, "broken", flaky)

    assert faults.failed == 3  # the client's bounded retries, then it gave up
    stored = state.report("broken")
    assert stored is not None and stored.status == "failed"
    # The report names the part that failed, what happened and what to check (no class names).
    [stopped] = [e for e in stored.errors if e.startswith("Clever: ")]
    assert "gave up after 3 tries" in stored.errors[0] and "Check Clever's status" in stopped, stored.errors
    assert "Error" not in stopped and stored.preview["errors_by_system"]["clever"] >= 1
    assert _snapshot(keycloak_admin) == before  # nobody disabled, no membership removed
    assert state.cursor(district) == cursor

    # Control: with Clever answering again the same run does disable them.
    sandbox_app.extensions["clever_sandbox_faults"] = None
    after = _ok(_run(clever_settings, state, "again"))
    assert after.kinds["students"]["disabled"] == 2
    accounts = _accounts(keycloak_admin)
    assert [accounts[c]["enabled"] for c in leavers] == [False, False]


# -- 5. Force Unique Class Names -------------------------------------------------------------------


def test_force_unique_class_names_then_off_renames_the_class_groups_in_place(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    state: SyncState,
) -> None:
    school_of = {s["id"]: s["name"] for s in raw(sandbox_state, "schools")}
    sections = raw(sandbox_state, "sections")
    groups_dn = clever_settings.ldap.groups_dn
    unique = {s["id"]: f"{_bare_name(s.get('name'), s['id'])} - {s['id']}" for s in sections}

    on = _ok(_run(_with(clever_settings, force_unique_class_names=True), state, "unique-on"))

    classes = _classes(keycloak_admin, list(school_of.values()))
    assert {sid: (name, school) for sid, (_, name, school) in classes.items()} == {
        s["id"]: (unique[s["id"]], school_of[s["school"]]) for s in sections
    }
    assert not [w for w in on.warnings if "collide" in w.lower() or "same name" in w.lower()]
    wanted_ldap = {f"cn={escape_rdn(name)},{groups_dn}".lower() for name in school_of.values()}
    wanted_ldap |= {
        f"cn={escape_rdn(unique[s['id']])},cn={escape_rdn(school_of[s['school']])},{groups_dn}".lower()
        for s in sections
    }
    assert set(actual_ldap(ldap_conn, groups_dn)) == wanted_ldap
    members_on = {
        sid: _members(keycloak_admin, f"/Clever/{school}/Classes/{name}")
        for sid, (_, name, school) in classes.items()
    }

    off = _ok(_run(clever_settings, state, "unique-off"))

    renamed = _classes(keycloak_admin, list(school_of.values()))
    assert {sid: group_id for sid, (group_id, _, _) in renamed.items()} == {
        sid: group_id for sid, (group_id, _, _) in classes.items()
    }  # the same groups: renamed, not re-created
    plain = class_names(sections)
    assert {sid: name for sid, (_, name, _) in renamed.items()} == plain
    assert off.kinds["classes"]["created"] == 0
    assert off.kinds["classes"]["updated"] == len(sections)
    assert off.kinds["students"]["memberships_removed"] == 0
    assert {
        sid: _members(keycloak_admin, f"/Clever/{school}/Classes/{name}")
        for sid, (_, name, school) in renamed.items()
    } == members_on
    assert off.ldap["groups_renamed"] == len(sections) and off.ldap["groups_created"] == 0
    assert set(actual_ldap(ldap_conn, groups_dn)) == set(expected_ldap(sandbox_state, groups_dn))
