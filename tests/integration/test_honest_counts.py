"""Every number of a run's report is what the test counts in Keycloak and LDAP afterwards.

The sandbox district (60 students, its teachers, staff and district admins) is synced into a realm
that already has directory people (OpenLDAP through Keycloak's READ_ONLY federation, matched by
name, so LDAP groups get members), two local accounts sharing a student's name (ambiguous: that
student waits) and a student Clever sends without a name (skipped: waits). The test snapshots the
realm and the directory before and after each run and counts, per kind, accounts created, linked by
name, updated, disabled and unchanged, memberships added and removed, school and class groups
created, updated, retired and unchanged, people waiting, and LDAP groups created and renamed and
member values added and removed (``tests.realm_counts``); the report must say the same. A second
full run after changes in the sandbox (a student leaves, one arrives, a teacher is renamed, a
directory student moves class, a class is renamed, one deleted, the nameless student gets a name)
is counted the same way.

``writes.ldap`` is compared with the LDAP operations the snapshots imply; ``writes.keycloak`` and
``calls`` count HTTP requests (batched through the extension), which the realm's state cannot
show: checked to be zero exactly when the realm did not change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors.clever import CleverClient
from connectors.keycloak_ldap import federate_ldap
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState
from tests.conftest import LdapOu
from tests.realm_counts import counted, kinds_of, snapshot, synced_now
from tests.sync_expect import raw

pytestmark = pytest.mark.integration


def _sync(settings: Settings, redis_url: str, run_id: str) -> SyncReport:
    report = jobs.run_locked(
        settings,
        SyncState.from_url(redis_url),
        settings.clever.district_id,
        run_id,
        RunOptions(full=True),
        source=CleverClient(settings.clever),
    )
    assert report.status == "ok", report.summary()
    return report


def _assert_honest(
    report: SyncReport, before: Any, after: Any, sandbox: SandboxState, kinds: dict[str, str]
) -> None:
    expected = counted(before, after, sandbox, kinds)
    assert report.kinds == expected["kinds"], report.summary()
    assert report.ldap == expected["ldap"]
    assert report.writes["ldap"] == expected["ldap_writes"]
    assert report.preview["synced"] == synced_now(after, kinds_of(sandbox))
    changed = before.accounts != after.accounts or before.groups != after.groups
    assert (report.writes["keycloak"] > 0) == changed


def _directory_people(conn: Connection, ou: LdapOu, people: list[dict[str, Any]]) -> None:
    for n, person in enumerate(people):
        name = person["name"]
        attributes = {"cn": name["first"], "sn": name["last"], "givenName": name["first"]}
        assert conn.add(f"uid=dir{n},{ou.people_dn}", ["inetOrgPerson"], attributes), conn.result


def test_every_count_of_two_runs_is_what_keycloak_and_ldap_show(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    ldap_ou: LdapOu,
    redis_url: str,
) -> None:
    # The directory holds students and teachers: the district says so (KCC_MATCH_SCOPES), so its
    # people are matched by name (a student account is not known as one otherwise: deny by default).
    scopes = (("student", (ldap_ou.people_dn,)), ("teacher", (ldap_ou.people_dn,)))
    settings = dataclasses.replace(
        clever_settings, options=dataclasses.replace(clever_settings.options, match_scopes=scopes)
    )
    sandbox, groups_dn = sandbox_state, clever_settings.ldap.groups_dn
    ensure_broker(keycloak_admin, settings)
    students, teachers = sandbox.people("student"), sandbox.people("teacher")
    assert sandbox.people("district_admin"), "the sandbox district has district admins"
    in_directory = [students[2], students[3], teachers[0]]
    _directory_people(ldap_conn, ldap_ou, in_directory)
    federate_ldap(keycloak_admin, settings.ldap, mode="READ_ONLY")
    twin = students[5]["name"]
    for n in (1, 2):  # two directory accounts of one student's name: ambiguous
        attributes = {"cn": twin["first"], "sn": twin["last"], "givenName": twin["first"]}
        assert ldap_conn.add(f"uid=twin{n},{ldap_ou.people_dn}", ["inetOrgPerson"], attributes)
    nameless = students[6]
    sandbox.update("users", nameless["id"], {"name": {"first": "", "last": "", "middle": ""}})
    kinds = kinds_of(sandbox)

    before = snapshot(keycloak_admin, ldap_conn, groups_dn)
    first = _sync(settings, redis_url, "first")
    after = snapshot(keycloak_admin, ldap_conn, groups_dn)
    _assert_honest(first, before, after, sandbox, kinds)
    assert first.kinds["students"]["memberships_added"] > first.kinds["students"]["created"]
    assert first.kinds["district_admins"]["created"] == len(sandbox.people("district_admin"))
    assert first.kinds["students"]["waiting"] == 2  # the ambiguous one and the nameless one
    assert first.ldap["members_added"] >= len(in_directory)

    # Changes in Clever.
    sandbox.delete("users", students[0]["id"])
    sections = sorted(raw(sandbox, "sections"), key=lambda s: s["id"])
    school = raw(sandbox, "schools")[0]["id"]
    in_school = [s for s in sections if s["school"] == school]
    newcomer = sandbox.create(
        "users",
        {
            "district": sandbox.district_id,
            "name": {"first": "Nova", "last": "Newcomer"},
            "roles": {"student": {"school": school, "grade": "3", "sis_id": "new-1"}},
        },
    )
    sandbox.update("sections", in_school[0]["id"], {"students": [*in_school[0]["students"], newcomer["id"]]})
    sandbox.update("users", teachers[1]["id"], {"name": {**teachers[1]["name"], "last": "Renamed"}})
    mover = next(s for s in in_directory[:2] for sec in sections if s["id"] in sec["students"])
    source = next(sec for sec in sections if mover["id"] in sec["students"])
    target = next(
        sec for sec in sections if sec["school"] == source["school"] and mover["id"] not in sec["students"]
    )
    sandbox.move_student(mover["id"], source["id"], target["id"])
    sandbox.update("sections", in_school[1]["id"], {"name": "Renamed Class"})
    sandbox.delete("sections", sections[-1]["id"])
    sandbox.update("users", nameless["id"], {"name": nameless["name"]})
    kinds |= kinds_of(sandbox)

    before = after
    second = _sync(settings, redis_url, "second")
    after = snapshot(keycloak_admin, ldap_conn, groups_dn)
    _assert_honest(second, before, after, sandbox, kinds)
    assert second.kinds["students"]["disabled"] == 1 and second.kinds["classes"]["disabled"] == 1
    assert second.ldap["members_added"] and second.ldap["members_removed"] and second.ldap["groups_renamed"]
