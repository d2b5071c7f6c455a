"""Issue 14, points 3 and 4: ambiguous people wait visibly and get their classes once resolved; any
change of options, schools or Clever app makes the next run a full one. A roster file built here,
a real sandbox, the real Keycloak, OpenLDAP and Redis; runs through the job boundary as the page's
Sync button and ``keycloak-clever sync`` make them (an incremental run once a cursor is saved).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from redis import Redis

from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from plugin.sync import resolutions
from plugin.sync.full_run import full_run_reason, save_choices
from tests.hard_roster import SCHOOL, HardRoster, accounts, members, run, served, waiting

pytestmark = pytest.mark.integration
REDIS_DB = 8
CLASSES = "/Clever/Hard Cases High/Classes"


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def _account(admin: KeycloakAdmin, username: str, first: str, last: str) -> str:
    return str(
        admin.create_user({"username": username, "enabled": True, "firstName": first, "lastName": last})
    )


def test_ambiguous_people_wait_with_no_account_and_get_their_classes_once_resolved(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    twins = [_account(keycloak_admin, f"jess{i}", "Jess", "Datos") for i in (1, 2)]
    sams = [_account(keycloak_admin, f"sam{i}", "Sam", "Rivera") for i in (1, 2)]
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    jess = roster.student("Jess", "Datos")
    sam = roster.student("Sam", "Rivera")
    other = roster.student("Bo", "Ng")
    roster.section("Math", teacher, [jess, sam, other])
    with served(settings, roster, tmp_path) as clever:
        first = run(clever, state)
        assert first.status == "ok", first.summary()
        held = accounts(keycloak_admin)
        assert set(held) == {teacher, other}  # nobody was guessed for Jess or Sam
        listed = waiting(first, "ambiguous")
        assert set(listed) == {jess, sam}
        assert "no account was made" in listed[jess]["reason"]
        assert sorted(listed[jess]["candidates"]) == sorted(twins) and listed[jess]["action"]
        assert first.kinds["students"]["waiting"] == 2
        assert first.kinds["students"]["created"] == 1 == len(held) - 1  # the teacher is a teacher
        assert members(keycloak_admin, f"{CLASSES}/Math") == {teacher, other}

        quiet = run(clever, state, full=False)  # nothing changed in Clever: still waiting, still listed
        assert quiet.status == "no-changes" and set(waiting(quiet, "ambiguous")) == {jess, sam}
        assert quiet.kinds["students"]["waiting"] == 2

        redis = Redis.from_url(settings.redis_url)
        resolutions.resolve(redis, settings.keycloak.realm, jess, twins[1])
        resolutions.resolve(redis, settings.keycloak.realm, sam, resolutions.CREATE)
        second = run(clever, state, full=False)  # the page's Sync button: no Clever event since
        assert second.status == "ok" and second.mode == "full", second.summary()
        assert "resolved" in second.preview["full_because"]
        held = accounts(keycloak_admin)
        assert held[jess]["id"] == twins[1] and held[sam]["id"] not in sams
        assert members(keycloak_admin, f"{CLASSES}/Math") == {teacher, jess, sam, other}
        assert not second.waiting and resolutions.load(redis, settings.keycloak.realm) == {}

        third = run(clever, state, full=False)
        assert third.status == "no-changes", third.summary()


def test_a_change_of_options_schools_or_app_makes_the_next_run_full(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    student = roster.student("Bo", "Ng")
    math = roster.section("Math", teacher, [student])
    with served(settings, roster, tmp_path) as clever:
        assert run(clever, state).status == "ok"
        assert run(clever, state, full=False).status == "no-changes"
        unique = clever.with_options(force_unique_class_names=True)
        report = run(unique, state, full=False)
        assert report.status == "ok" and report.mode == "full", report.summary()
        assert "Force Unique Class Names" in report.preview["full_because"]
        classes = keycloak_admin.get_group_by_path(CLASSES)["id"]
        names = {g["name"] for g in keycloak_admin.get_group_children(classes, {"max": 100})}
        assert names == {f"Math - {math}"}
        assert run(unique, state, full=False).status == "no-changes"

        narrowed = run(unique, state, full=False, school_ids=(SCHOOL,))
        assert narrowed.mode == "full" and "the chosen schools" in narrowed.preview["full_because"]
        assert run(unique, state, full=False, school_ids=(SCHOOL,)).status == "no-changes"


def test_another_clever_app_or_a_district_never_synced_is_a_reason_for_a_full_run(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    save_choices(redis, settings, "d1", ())
    assert full_run_reason(redis, settings, "d1", ()) == ""
    other = dataclasses.replace(
        settings, clever=dataclasses.replace(settings.clever, client_id="another-app")
    )
    moved = full_run_reason(redis, other, "d1", ())
    assert moved == "the Clever app changed since the last run: full sync"
    assert full_run_reason(redis, settings, "d2", ()).startswith("no record of the choices")
