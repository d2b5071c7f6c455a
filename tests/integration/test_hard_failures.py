"""Issue 14, point 2: a write Keycloak refuses is a failure in the counts, the status, the waiting
list and the exit code. A roster file built here, a real sandbox, the real Keycloak, OpenLDAP, Redis.

Each test checks what an admin sees: the accounts Keycloak holds, the counts and status of the
report, its waiting list and the exit code of ``keycloak-clever sync``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin

from plugin.commands.cli import cli
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.conftest import worker_environment
from tests.hard_roster import HardRoster, accounts, members, run, served, waiting

pytestmark = pytest.mark.integration
REDIS_DB = 10
CLASS = "/Clever/Hard Cases High/Classes"


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def _limit_usernames(admin: KeycloakAdmin, longest: int) -> None:
    """The realm admin's own rule: usernames of at most ``longest`` characters (not the sync's field)."""
    profile = admin.get_realm_users_profile()
    for attribute in profile["attributes"]:
        if attribute["name"] == "username":
            attribute.setdefault("validations", {})["length"] = {"min": 3, "max": longest}
    admin.update_realm_users_profile(profile)


def test_failed_creates_are_failures_in_counts_status_waiting_list_and_exit_code(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    fine = [roster.student("Bo", "Ng"), roster.student("Cy", "Ode")]
    refused = roster.student(
        "Di", "Poe", role_data={"credentials": {"district_username": "di.poe." + "x" * 40}}
    )
    roster.section("Math", teacher, [*fine, refused])
    with served(settings, roster, tmp_path) as clever:
        _limit_usernames(keycloak_admin, 40)  # clever-<id> is 31
        report = run(clever, state)
        held = accounts(keycloak_admin)
        assert set(held) == {teacher, *fine}, report.summary()  # the refused one has no account
        assert report.status == "partial", report.summary()
        assert report.kinds["students"]["created"] == 2 == len(held) - 1
        assert report.kinds["students"]["failed"] == 1
        entry = waiting(report, "failed")[refused]
        assert "no account was made" in entry["reason"] and "{" not in entry["reason"]
        assert "username" in entry["reason"] and entry["action"]
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, *fine}

        again = run(clever, state)
        assert again.status == "partial" and again.kinds["students"]["created"] == 0
        assert again.kinds["students"]["failed"] == 1

        env = worker_environment(
            clever,
            KCC_CLEVER_API_URL=clever.clever.api_url,
            KCC_CLEVER_OAUTH_URL=clever.clever.oauth_url,
            KCC_CLEVER_CLIENT_ID=clever.clever.client_id,
            KCC_CLEVER_CLIENT_SECRET=clever.clever.client_secret,
            KCC_CLEVER_DISTRICT_ID=clever.clever.district_id,
        )
        result = CliRunner().invoke(cli, ["sync", "--full"], env=env)
        assert result.exit_code == 2, result.output  # partial
        assert "partial" in result.output and "failed 1" in result.output


def test_warnings_of_one_kind_are_one_line_with_a_count_and_the_ids_behind_it(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    # Siblings' records often carry the family's one address: Keycloak takes it once.
    siblings = [roster.student(first, "Ng", email="ng.family@example.org") for first in ("Bo", "Cy", "Di")]
    roster.section("Math", teacher, siblings)
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        assert set(accounts(keycloak_admin)) == {teacher, *siblings}
        [line] = [w for w in report.warnings if "refused the email" in w]
        assert line.startswith("2 people: ")
        assert len(report.warning_ids[line]) == 2 and set(report.warning_ids[line]) < set(siblings)
        assert line in report.summary()


def test_a_roster_file_naming_users_clever_does_not_share_is_served_and_reported_and_nameless_wait(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    ghost = "a1" + "f" * 22
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    student = roster.student("Bo", "Ng")
    nameless = roster.student("", "")
    math = roster.section("Math", teacher, [student, ghost, nameless])
    parent = roster.contact("Pat Ng", [ghost], email="pat@example.org")
    with served(settings, roster, tmp_path) as clever:
        report = run(clever.with_options(sync_parent_data=True), state)
        assert report.status == "ok", report.summary()
        assert set(accounts(keycloak_admin)) == {teacher, student}
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, student}
        skipped = {s["clever_id"]: s for s in report.skipped}
        assert skipped[ghost]["kind"] == "sections" and math in skipped[ghost]["reason"]
        assert skipped[parent]["kind"] == "parents" and "no student in scope" in skipped[parent]["reason"]
        # The student without a name waits for the SIS; the contact of nobody here is not wanted.
        assert set(waiting(report)) == {nameless}
        assert "no account was made" in waiting(report)[nameless]["reason"]
