"""Issue 17, point 4: bad records are never lost in silence. Each is synced with the bad field
dropped and a named warning, or skipped with a named reason (on the waiting list when it is a
person Clever wants synced); nothing Clever did not send is written. A roster file built here, a
real sandbox, the real Keycloak, OpenLDAP and Redis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keycloak import KeycloakAdmin

from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, accounts, members, new_id, run, served, waiting

pytestmark = pytest.mark.integration
REDIS_DB = 10
CLASS = "/Clever/Hard Cases High/Classes"
NOWHERE = "5c" + "f" * 22  # a school id the district's roster does not have


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def test_a_student_of_an_unknown_school_is_skipped_by_name_and_waits(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    pupil = roster.student("Bo", "Ng")
    lost = roster.student("Cy", "Ro", role_data={"school": NOWHERE, "schools": [NOWHERE]})
    math = roster.section("Math", teacher, [pupil, lost])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert set(accounts(keycloak_admin)) == {teacher, pupil}, report.summary()
        [skip] = [s for s in report.skipped if s["clever_id"] == lost]
        assert NOWHERE in skip["reason"] and "not in the district" in skip["reason"], skip
        assert f"left out of section {math}" in skip["reason"], skip  # the lost membership is named
        assert lost in waiting(report, "skipped"), report.waiting
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, pupil}


def test_a_sections_unknown_teacher_is_not_written_and_is_named(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    pupil = roster.student("Bo", "Ng")
    ghost = new_id("a9")  # a teacher id no user of the roster has
    roster.section("Math", teacher, [pupil])
    roster.sections[-1]["teachers"].append(ghost)
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        group = keycloak_admin.get_group_by_path(f"{CLASS}/Math")
        assert group["attributes"]["clever_teachers"] == [teacher], report.summary()
        assert [s for s in report.skipped if s["clever_id"] == ghost], report.skipped


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "bo.ng@@students", "a" * 9988 + "@example.org"],
    ids=["invalid", "typo", "huge"],  # typo: SIS data entry
)
def test_an_invalid_or_huge_email_is_left_off_with_a_warning_and_not_retried(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path, email: str
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    pupil = roster.student("Bo", "Ng", email=email)
    roster.section("Math", teacher, [pupil])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)
        assert set(held) == {teacher, pupil} and not held[pupil].get("email")
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, pupil}
        [line] = [w for w in report.warnings if "refused the email" in w]
        assert pupil in line and "not an address" in line
        again = run(clever, state)
        assert again.status == "ok" and again.writes["keycloak"] == 0, again.summary()
        assert not [w for w in again.warnings if "refused the email" in w]


def test_text_that_is_not_text_is_never_stored_changed(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    kept = roster.student("Bo", "Ng")
    math = roster.section("Math", teacher, [kept])
    with served(settings, roster, tmp_path) as clever:
        assert run(clever, state).status == "ok"
    before = accounts(keycloak_admin)[kept]

    roster.users[-1]["name"]["last"] = "Ng\udcff"  # the byte 0xFF: not UTF-8
    surrogate = roster.student("Cy", "Ro\ud800")  # a lone surrogate, escaped as JSON does
    roster.sections[-1]["students"].append(surrogate)
    roster.sections[-1]["sis_id"] = "M-\udcfe1"
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)
        assert set(held) == {teacher, kept}, report.summary()  # nobody made from a broken record
        assert held[kept]["lastName"] == before["lastName"] == "Ng" and held[kept]["enabled"]  # kept as is
        skipped = {s["clever_id"]: s["reason"] for s in report.skipped}
        assert "name.last" in skipped[kept] and "not UTF-8" in skipped[kept], skipped
        assert "name.last" in skipped[surrogate] and "lone surrogate" in skipped[surrogate], skipped
        assert {kept, surrogate} <= set(waiting(report, "skipped"))
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, kept}  # left in their class
        [line] = [w for w in report.warnings if w.startswith(f"sections {math}:")]
        assert "sis_id" in line and "left out" in line
        group = keycloak_admin.get_group_by_path(f"{CLASS}/Math")
        written = repr(group.get("attributes")) + repr(held)
        assert "\ufffd" not in written and "M-" not in written  # nothing changed or made up was stored
