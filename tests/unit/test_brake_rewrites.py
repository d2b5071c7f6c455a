"""The brake holds a run that would rewrite most names or identifiers of a kind (an SIS re-key)."""

from __future__ import annotations

from model.state import CurrentUser, DirectoryState, Plan, UserUpdate
from plugin.sync.brake import brake_from_totals, brake_reasons, rewrites


def _students(n: int) -> DirectoryState:
    users = {
        f"c{i}": CurrentUser(f"k{i}", f"c{i}", f"s{i}", "A", "B", "", True, {"clever_role": ("student",)})
        for i in range(n)
    }
    return DirectoryState(groups={}, users=users, members={})


def _plan(n: int, **update: object) -> Plan:
    return Plan(
        update_users=tuple(UserUpdate(f"k{i}", f"c{i}", "students", **update) for i in range(n))  # type: ignore[arg-type]
    )


def test_renaming_most_of_a_kind_is_held() -> None:
    reasons = brake_reasons(_plan(80, fields={"lastName": "New"}), _students(100), 0.10, 0.75)
    assert reasons == ["80 of 100 students would have their names or identifiers rewritten (over 75%)"]


def test_a_few_corrections_are_never_held() -> None:
    assert brake_reasons(_plan(9, fields={"lastName": "New"}), _students(10), 0.10, 0.75) == []


def test_rekeying_identifiers_is_held_and_up_to_the_threshold_is_not() -> None:
    sis = {"clever_sis_id": ("new",)}
    assert brake_reasons(_plan(76, attributes=sis), _students(100), 0.10, 0.75)
    assert brake_reasons(_plan(75, attributes=sis), _students(100), 0.10, 0.75) == []


def test_attribute_changes_and_first_links_by_name_are_not_rewrites() -> None:
    grades = _plan(10, attributes={"clever_grade": ("4",)})
    linked = _plan(10, fields={"firstName": "X"}, linked_by_name=True)
    assert rewrites(grades) == {} and rewrites(linked) == {}
    assert brake_reasons(grades, _students(10), 0.10, 0.75) == []


def test_an_incremental_run_checks_against_the_saved_totals() -> None:
    plan = _plan(90, fields={"firstName": "Y"})
    assert brake_from_totals(plan, {"students": 100}, 0.10, 0.75) == [
        "90 of 100 students would have their names or identifiers rewritten (over 75%)"
    ]
    assert brake_from_totals(plan, {"students": 100}, 0.10, 0.95) == []


def _with_directory_people(owned: int, directory: int) -> DirectoryState:
    """``owned`` students the sync made, ``directory`` read-only directory accounts linked to Clever."""
    state = _students(owned)
    people = {
        f"d{i}": CurrentUser(
            f"kd{i}", f"d{i}", f"dir{i}", "D", "E", "", True, {}, read_only=True, kind="students"
        )
        for i in range(directory)
    }
    return DirectoryState(groups={}, users={**state.users, **people}, members={})


def test_directory_accounts_the_sync_cannot_rename_are_not_in_the_rewrite_share() -> None:
    current = _with_directory_people(owned=100, directory=30)
    assert brake_reasons(_plan(80, fields={"lastName": "New"}), current, 0.10, 0.75) == [
        "80 of 100 students would have their names or identifiers rewritten (over 75%)"
    ]


def test_directory_accounts_still_count_for_disables() -> None:
    current = _with_directory_people(owned=100, directory=30)
    plan = Plan(disable_users=tuple(UserUpdate(f"k{i}", f"c{i}", "students") for i in range(12)))
    assert brake_reasons(plan, current, 0.10, 0.75) == []  # 12 of 130: under 10%
    plan = Plan(disable_users=tuple(UserUpdate(f"k{i}", f"c{i}", "students") for i in range(14)))
    assert brake_reasons(plan, current, 0.10, 0.75) == [
        "14 of 130 students would be disabled or removed (over 10%)"
    ]


def test_an_incremental_run_takes_rewrites_as_a_share_of_the_renameable_accounts() -> None:
    plan = _plan(80, fields={"firstName": "Y"})
    saved = {"students": 130, "rewritable:students": 100}
    assert brake_from_totals(plan, saved, 0.10, 0.75) == [
        "80 of 100 students would have their names or identifiers rewritten (over 75%)"
    ]
    assert brake_from_totals(plan, {"students": 130}, 0.10, 0.75) == []  # totals of an older version
