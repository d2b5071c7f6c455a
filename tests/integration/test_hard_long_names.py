"""Names Keycloak will not store as they are still make accounts (``mappers.name_fit``): a
10,000-character first name (over Keycloak's 2,048 for an attribute value, let alone 255 for a
name) and names with control characters (NUL fails the write). Each person gets an account, in
their class; the warning says exactly what was kept where. Both write paths: the admin REST API
(``KCC_KEYCLOAK_BULK=false``) and the clever-sync extension. A roster file behind a real sandbox,
the real Keycloak, OpenLDAP and Redis.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin

from mappers.name_fit import whole_value
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, accounts, members, run, served

pytestmark = pytest.mark.integration
REDIS_DB = 10
HUGE_FIRST = ("Maximiliana-" * 834)[:10_000]  # 10,000 characters
LONG_LAST = "Wolfeschlegelsteinhausenbergerdorff" * 9  # 315: over 255, one attribute value
CLASS = "/Clever/Hard Cases High/Classes/Math"


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "extension"])
def test_a_huge_name_and_names_with_control_characters_get_accounts_and_say_what_was_kept(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, tmp_path: Path, bulk: bool
) -> None:
    settings = dataclasses.replace(settings, keycloak=dataclasses.replace(settings.keycloak, bulk=bulk))
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    huge = roster.student(HUGE_FIRST, "Short")
    control = roster.student("Jo\x00sé\x07", "Smith\tJr")
    long_last = roster.student("Max", LONG_LAST)
    roster.section("Math", teacher, [huge, control, long_last])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        held = accounts(keycloak_admin)

        assert report.status == "ok", report.summary()
        assert set(held) == {teacher, huge, control, long_last}
        assert members(keycloak_admin, CLASS) == {teacher, huge, control, long_last}
        assert not report.errors and not report.waiting

        # The huge first name: its first 255 characters shown, the whole kept in five parts.
        values = held[huge]["attributes"]["clever_first_name"]
        assert held[huge]["firstName"] == HUGE_FIRST[:255]
        assert len(values) == 5 and all(len(v) <= 2048 for v in values)
        assert [v.split(":", 1)[0] for v in values] == ["1", "2", "3", "4", "5"]
        assert whole_value(values) == HUGE_FIRST
        [said] = [w for w in report.warnings if w.startswith(huge)]
        assert said == (
            f"{huge}: the first name (10,000 characters) is longer than the 255 Keycloak shows: "
            "the account shows its first 255; the whole name is kept in clever_first_name, "
            "in 5 values of at most 2,048 characters, each starting with its number (1: to 5:)"
        )

        # Control characters: removed (NUL would fail the write), the code points said, not the name.
        assert (held[control]["firstName"], held[control]["lastName"]) == ("José", "Smith Jr")
        [said] = [w for w in report.warnings if w.startswith(control)]
        assert said == (
            f"{control}: the first name held control characters (U+0000, U+0007), which are no part of "
            "a name: they were removed; the last name held control characters (U+0009), which are no "
            "part of a name: they were removed"
        )

        # A long name that fits one attribute value: kept whole in it.
        assert held[long_last]["lastName"] == LONG_LAST[:255]
        assert held[long_last]["attributes"]["clever_last_name"] == [LONG_LAST]

        again = run(clever, state)
        assert again.status == "ok" and again.writes["keycloak"] == 0, again.summary()
        assert not [w for w in again.warnings if w.startswith((huge, control, long_last))]
