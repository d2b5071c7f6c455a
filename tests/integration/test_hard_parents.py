"""Issue 14, points 5 and 7: Sync Parent Data turned off deprovisions parents through the brake;
a contact whose whole name is in ``name.last`` is matched to the directory's "first last". A roster
file built here, a real sandbox, the real Keycloak, OpenLDAP and Redis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keycloak import KeycloakAdmin

from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, accounts, members, run, served

pytestmark = pytest.mark.integration
REDIS_DB = 7
PARENTS = "/Clever/Hard Cases High/Parents"


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def test_sync_parent_data_off_disables_parents_through_the_brake_and_drops_relationships(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    students = [roster.student("Bo", "Ng"), roster.student("Cy", "Ng")]
    parent = roster.contact("Maria Ng", students, email="maria.ng@example.org")
    # Another student's parent, never synced as one: their account came from a Clever login.
    other = roster.contact("Lee Ode", [], email="lee.ode@example.org")
    roster.section("Math", teacher, students)
    with served(settings, roster, tmp_path) as clever:
        on = clever.with_options(sync_parent_data=True)
        assert run(on, state).status == "ok"
        own = keycloak_admin.create_user(
            {"username": f"clever-{other}", "enabled": True, "attributes": {"clever_id": [other]}}
        )
        held = accounts(keycloak_admin)
        assert held[parent]["enabled"] and members(keycloak_admin, PARENTS) == {parent}
        assert all("clever_relationships" in held[s]["attributes"] for s in students)

        off = clever.with_options(sync_parent_data=False)
        braked = run(off, state, full=False)  # the page's Sync after the option changed
        assert braked.status == "held", braked.summary()
        assert any("parents" in reason for reason in braked.brake["reasons"])
        assert accounts(keycloak_admin)[parent]["enabled"]  # nothing written while held

        report = run(off, state, trigger="approve", release_brake=True)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)
        assert not held[parent]["enabled"] and "clever_removed_at" in held[parent]["attributes"]
        assert members(keycloak_admin, PARENTS) == set()
        assert all("clever_relationships" not in held[s]["attributes"] for s in students)
        assert report.kinds["parents"]["disabled"] == 1
        assert report.kinds["parents"]["memberships_removed"] == 1
        assert report.kinds["staff"]["memberships_removed"] == 0
        assert report.kinds["students"]["updated"] == 2
        assert all(held[s]["enabled"] for s in [teacher, *students])
        assert keycloak_admin.get_user(own)["enabled"]  # not a parent account the sync made

        again = run(off, state)
        assert again.status == "ok" and again.writes["keycloak"] == 0, again.summary()


def test_a_contact_whose_whole_name_is_in_last_is_matched_to_the_existing_account(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    def account(username: str, first: str, last: str) -> str:
        body = {"username": username, "enabled": True, "firstName": first, "lastName": last}
        return str(keycloak_admin.create_user(body))

    maria = account("mcruz", "Maria", "de la Cruz")
    lees = [account(f"lchan{i}", "Lee", "Chan") for i in (1, 2)]
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    child = roster.student("Bo", "Cruz")
    other = roster.student("Cy", "Chan")
    mother = roster.contact("Maria de la Cruz", [child], email="maria@example.org")
    father = roster.contact("Lee Chan", [other], email="lee@example.org")
    roster.section("Math", teacher, [child, other])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever.with_options(sync_parent_data=True), state)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)
        assert held[mother]["id"] == maria  # no second account
        assert report.kinds["parents"]["linked_by_name"] == 1
        assert father not in held  # two accounts named Lee Chan: nothing guessed
        [entry] = [w for w in report.waiting if w["clever_id"] == father]
        assert entry["kind"] == "ambiguous" and sorted(entry["candidates"]) == sorted(lees)
        assert report.kinds["parents"]["waiting"] == 1
        assert members(keycloak_admin, PARENTS) == {mother}
        assert len([u for u in keycloak_admin.get_users({"max": 100}) if u["username"] == "mcruz"]) == 1
