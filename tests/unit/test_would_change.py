"""Who a held run would change (``plugin.sync.would_change``), its CSV, and Approve's confirmation."""

from __future__ import annotations

import csv
import io

from model.state import CurrentGroup, DirectoryState
from plugin.admin.held import parse_confirmation
from plugin.sync.plan import diff
from plugin.sync.report import SyncReport
from plugin.sync.would_change import WouldChange, would_change
from tests.unit.test_plan import NOW, account, desired, spec

SCHOOL = CurrentGroup("gs", "school:a", "Lincoln Elementary", "groot", {"clever_key": ("school:a",)})
CLASSES = CurrentGroup("gc", "school:a:classes", "Classes", "gs", {"clever_key": ("school:a:classes",)})
MATH = CurrentGroup("gm", "section:s1", "Math 3", "gc", {"clever_key": ("section:s1",)})
ART = CurrentGroup("ga", "section:s2", "Art", "gc", {"clever_key": ("section:s2",)})


def realm() -> DirectoryState:
    """Two students in Math; one of them (``=cmd`` as a first name) leaves Clever, Art is gone."""
    groups = {g.key: g for g in (SCHOOL, CLASSES, MATH, ART)}
    users = [account("c1", "k1"), account("c2", "k2", username="lee", first_name="=cmd", last_name="Lee")]
    return DirectoryState(groups, {u.clever_id: u for u in users}, {MATH.key: frozenset({"k1", "k2"})})


def test_a_held_run_names_who_it_would_disable_the_classes_it_would_retire_and_the_memberships() -> None:
    current = realm()
    plan = diff(desired(spec("c1", groups=("section:s1",))), current, removed_at=NOW)
    changes = would_change(plan, current)
    assert changes.totals == {"people": 1, "classes": 1, "memberships": 1}
    [person] = changes.people
    assert (person["username"], person["first_name"], person["kind"], person["clever_id"]) == (
        "lee",
        "=cmd",
        "students",
        "c2",
    )
    assert changes.classes == [
        {"clever_id": "s2", "keycloak_id": "ga", "name": "Art", "school": "Lincoln Elementary", "members": 0}
    ]
    assert [(m["username"], m["group"], m["school"]) for m in changes.memberships] == [
        ("lee", "Math 3", "Lincoln Elementary")
    ]
    assert changes.sentence() == "disable 1 person, retire 1 class and remove 1 membership"


def test_the_csv_lists_every_change_and_a_spreadsheet_never_runs_a_name() -> None:
    current = realm()
    changes = would_change(diff(desired(spec("c1")), current, removed_at=NOW), current)
    rows = list(csv.DictReader(io.StringIO(changes.csv())))
    assert [r["change"] for r in rows] == ["disable account", "retire class", "remove from group"]
    assert rows[0]["first_name"] == "'=cmd"  # not a formula
    assert rows[1]["group"] == "Art" and rows[1]["school"] == "Lincoln Elementary"


def test_a_run_held_before_lists_were_kept_still_has_its_totals() -> None:
    from plugin.runs.changes import ChangeStore

    class NoRedis:
        def get(self, key: str) -> None:
            return None

    report = SyncReport(
        preview={"keycloak": {"disable_users": 25, "retire_groups": 2, "remove_members": 130}}
    )
    changes = ChangeStore(NoRedis()).of(report)  # type: ignore[arg-type]
    assert changes.people == [] and changes.confirmation == {"people": 25, "classes": 2, "memberships": 130}
    assert changes.sentence() == "disable 25 people, retire 2 classes and remove 130 memberships"


def test_the_report_never_carries_the_list_in_its_json() -> None:
    report = SyncReport()
    report.would_change = WouldChange(totals={"people": 1, "classes": 0, "memberships": 0})
    assert "would_change" not in report.to_dict()
    assert SyncReport.from_dict({**report.to_dict(), "would_change": {"x": 1}}).would_change is None


def test_a_confirmation_is_three_whole_numbers() -> None:
    assert parse_confirmation({"people": "25", "classes": 2, "memberships": "130"}) == {
        "people": 25,
        "classes": 2,
        "memberships": 130,
    }
    assert parse_confirmation({"people": "25", "classes": "2"}) is None
    assert parse_confirmation({"people": True, "classes": 0, "memberships": 0}) is None
    assert parse_confirmation({"people": "x", "classes": 0, "memberships": 0}) is None


def test_a_group_the_run_did_not_read_is_named_from_the_roster() -> None:
    from model.state import DesiredState, GroupSpec, Membership, Plan

    school = GroupSpec("school:a", "Lincoln Elementary", "root", "school")
    students = GroupSpec("school:a:students", "Students", "school:a", "role")
    desired = DesiredState({g.key: g for g in (school, students)}, {})
    plan = Plan(remove_members=(Membership("school:a:students", keycloak_id="k2"),))
    current = DirectoryState({}, {"c2": account("c2", "k2", username="lee")}, {})
    [membership] = would_change(plan, current, desired).memberships
    assert (membership["group"], membership["school"], membership["username"]) == (
        "Students",
        "Lincoln Elementary",
        "lee",
    )


def test_a_role_group_neither_read_nor_wanted_is_named_by_its_key() -> None:
    from model.state import Membership, Plan

    current = DirectoryState({SCHOOL.key: SCHOOL}, {"c2": account("c2", "k2")}, {})
    plan = Plan(remove_members=(Membership("school:a:teachers", keycloak_id="k2"),))
    [membership] = would_change(plan, current).memberships
    assert (membership["group"], membership["school"]) == ("Teachers", "Lincoln Elementary")
