"""Departed people with READ_ONLY directory accounts (issue 17, point 2): plain data in, plan and
report out. The real-service test is ``tests/integration/test_hard_departures.py``."""

from __future__ import annotations

from model.base import RecordError
from model.state import DesiredState, DirectoryState
from plugin.sync.brake import brake_reasons
from plugin.sync.departed import report_departed
from plugin.sync.plan import diff
from plugin.sync.report import SyncReport
from tests.unit.test_plan import NOW, account, spec

DN = "uid=jdoe,ou=people,dc=example,dc=org"


def _directory() -> DirectoryState:
    # A read-only account carries none of the Clever attributes (Keycloak refused them): its kind
    # comes from the person's Clever role (``plugin.sync.departed.with_kinds``).
    jane = account("c0", "k0", attributes={}, read_only=True, ldap_dn=DN, kind="students")
    pupils = [account(f"c{i}", f"k{i}") for i in range(1, 13)]
    return DirectoryState(groups={}, users={u.clever_id: u for u in [jane, *pupils]}, members={})


def _without_jane() -> DesiredState:
    return DesiredState(groups={}, users={f"c{i}": spec(f"c{i}") for i in range(1, 13)})


def test_a_departed_read_only_account_is_a_student_disabled_with_enabled_alone() -> None:
    plan = diff(_without_jane(), _directory(), removed_at=NOW)
    (update,) = plan.disable_users
    assert (update.clever_id, update.kind, update.read_only) == ("c0", "students", True)
    assert dict(update.fields) == {"enabled": False} and dict(update.attributes) == {}
    assert brake_reasons(plan, _directory(), 0.1) == []  # 1 of 13 students, not "1 of 1 staff"


def test_a_returning_read_only_account_is_enabled_again() -> None:
    directory = DirectoryState(
        groups={}, users={"c0": account("c0", "k0", attributes={}, read_only=True, enabled=False)}, members={}
    )
    plan = diff(DesiredState(groups={}, users={"c0": spec("c0")}), directory, removed_at=NOW)
    (update,) = plan.update_users
    assert dict(update.fields) == {"enabled": True} and dict(update.attributes) == {}


def test_an_account_keycloak_would_not_disable_waits_with_the_directory_action_and_is_partial() -> None:
    plan = diff(_without_jane(), _directory(), removed_at=NOW)
    report = SyncReport()
    report.kinds["students"]["disabled"] = 1
    refused = RecordError("Keycloak would not disable ...", kind="students", clever_id="c0")
    report.count_failures(plan, [refused])
    report_departed(report, plan, _directory(), {"c0": "k0"})
    assert report.kinds["students"]["disabled"] == 0 and report.kinds["students"]["failed"] == 1
    (item,) = report.waiting
    assert (item["kind"], item["clever_id"], item["keycloak_id"], item["ldap_dn"]) == (
        "undisablable",
        "c0",
        "k0",
        DN,
    )
    assert item["action"].startswith(f"disable or remove {DN} in the directory")
    assert report.finish_written().status == "partial"


def test_a_disabled_read_only_account_waits_for_the_directory_and_the_run_is_ok() -> None:
    plan = diff(_without_jane(), _directory(), removed_at=NOW)
    report = SyncReport()
    report_departed(report, plan, _directory(), {})
    assert [(w["kind"], w["ldap_dn"]) for w in report.waiting] == [("directory-departed", DN)]
    assert report.finish_written().status == "ok"
