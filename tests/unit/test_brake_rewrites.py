"""The brake holds a run that would rewrite most names or identifiers of a kind (an SIS re-key)."""

from __future__ import annotations

from connectors.state import CurrentUser, DirectoryState, Plan, UserUpdate
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
