"""An SIS re-key that rewrites every name is held for review, like Clever's own hold (real services)."""

from __future__ import annotations

import dataclasses

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors.clever import CleverClient
from connectors.keycloak_ldap import federate_ldap
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.sso.broker import ensure_broker
from plugin.sync.pipeline import run_sync
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState
from tests.conftest import LdapOu
from tests.factories import make_school, make_student
from tests.idp import register_idp
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration


def _last_names(admin: KeycloakAdmin) -> set[str]:
    users = admin.get_users({"q": "clever_role:student", "max": 1000})
    return {u.get("lastName", "") for u in users}


def test_rewriting_most_names_is_held_and_applied_only_when_approved(
    clever_settings: Settings, sandbox_state: SandboxState, keycloak_admin: KeycloakAdmin
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)
    state = jobs.state_for(settings)
    district = settings.clever.district_id

    def full(run_id: str) -> SyncReport:
        return jobs.run_locked(
            settings, state, district, run_id, RunOptions(full=True), source=CleverClient(settings.clever)
        )

    first = full("full1")
    assert first.status == "ok", first.summary()
    before = _last_names(keycloak_admin)

    students = sandbox_state.people("student")
    rekeyed = students[: int(len(students) * 0.8)]
    for student in rekeyed:
        sandbox_state.update("users", student["id"], {"name": {**student["name"], "last": "Rekeyed"}})

    held = full("full2")
    assert held.status == "held", held.summary()
    rewritten = f"{len(rekeyed)} of {len(students)} students would have their names or identifiers"
    assert held.brake["reasons"] == [f"{rewritten} rewritten (over 75%)"]
    assert _last_names(keycloak_admin) == before  # nothing was written
    assert state.held(district) is not None

    approved = jobs.run_locked(
        settings,
        state,
        district,
        "full3",
        source=CleverClient(settings.clever),
        run=RunOptions(full=True, release_brake=True),
    )
    assert approved.status == "ok", approved.summary()
    assert approved.kinds["students"]["updated"] == len(rekeyed)
    assert "Rekeyed" in _last_names(keycloak_admin)


def test_renaming_most_synced_students_is_held_in_a_realm_with_directory_people(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    """12 students are the district's directory people (federated READ_ONLY: their names are the
    directory's, the sync never renames them; the district keeps its students there,
    ``KCC_MATCH_SCOPES``, so they are matched by name); the sync made the other 40. Clever renames 32
    of those 40 (80%): held, as it would be without the directory people (not 32 of 52, 62%)."""
    scopes = (("student", (ldap_ou.people_dn,)),)
    settings = dataclasses.replace(
        settings, options=dataclasses.replace(settings.options, match_scopes=scopes)
    )
    register_idp(keycloak_admin)
    school = make_school("Lincoln Elementary")
    directory = [make_student(f"Dir{i}", f"Person{i}", school=school.clever_id) for i in range(12)]
    for i in range(12):
        entry = {"cn": f"Dir{i} Person{i}", "sn": f"Person{i}", "givenName": f"Dir{i}"}
        assert ldap_conn.add(f"uid=dir{i},{ldap_ou.people_dn}", ["inetOrgPerson"], entry)
    federate_ldap(keycloak_admin, settings.ldap, mode="READ_ONLY")
    owned = [make_student("Kid", f"Number{i}", school=school.clever_id) for i in range(40)]
    first = run_sync(settings, source=MemorySource(MemoryRoster([school], [*directory, *owned], [])))
    assert first.status == "ok", first.summary()
    assert (first.kinds["students"]["linked_by_name"], first.kinds["students"]["created"]) == (12, 40)

    renamed = [dataclasses.replace(s, last_name=f"Rekeyed{i}") for i, s in enumerate(owned[:32])]
    roster = MemoryRoster([school], [*directory, *renamed, *owned[32:]], [])
    held = run_sync(settings, source=MemorySource(roster))

    assert held.status == "held", held.summary()
    assert held.brake["reasons"] == [
        "32 of 40 students would have their names or identifiers rewritten (over 75%)"
    ]
    assert not {u.get("lastName", "") for u in keycloak_admin.get_users({"q": "clever_role:student"})} & {
        f"Rekeyed{i}" for i in range(32)
    }  # nothing was written
