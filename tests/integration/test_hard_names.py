"""Issue 14, point 1: names Keycloak's default User Profile refuses (``#``, ``=``, ``;``, ``\\``,
over 255 characters) still make accounts, in their classes. A roster file built here, a real
sandbox, the real Keycloak, OpenLDAP and Redis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keycloak import KeycloakAdmin

from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, accounts, members, run, served

pytestmark = pytest.mark.integration
REDIS_DB = 10
LONG_LAST = "Wolfeschlegelsteinhausenbergerdorff" * 9  # 315 characters
CLASS = "/Clever/Hard Cases High/Classes"


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def test_names_the_default_user_profile_refuses_get_accounts_and_their_classes(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path
) -> None:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    hashed = roster.student("#Hash", "Tag\\Back")
    equals = roster.student("Zoë", "=Equals;Semi")
    long_one = roster.student("Max", LONG_LAST)
    roster.section("Math", teacher, [hashed, equals, long_one])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        held = accounts(keycloak_admin)
        assert report.status == "ok", report.summary()
        assert set(held) == {teacher, hashed, equals, long_one}
        assert report.kinds["students"]["created"] == 3 == len(held) - 1
        assert (held[hashed]["firstName"], held[hashed]["lastName"]) == ("#Hash", "Tag\\Back")
        assert (held[equals]["firstName"], held[equals]["lastName"]) == ("Zoë", "=Equals;Semi")
        assert held[long_one]["lastName"] == LONG_LAST[:255]
        assert held[long_one]["attributes"]["clever_last_name"] == [LONG_LAST]
        assert members(keycloak_admin, f"{CLASS}/Math") == {teacher, hashed, equals, long_one}
        cut = [w for w in report.warnings if "255" in w]
        assert len(cut) == 1 and long_one in cut[0] and "clever_last_name" in cut[0]
        assert not report.errors and not report.skipped
        assert not any("{" in line for line in [*report.warnings, *report.errors])

        again = run(clever, state)
        assert again.status == "ok" and again.writes["keycloak"] == 0, again.summary()
        assert not [w for w in again.warnings if "255" in w]  # said once, when it was cut
