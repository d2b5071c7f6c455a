"""The standing state: totals and the waiting list move only with runs that applied."""

from __future__ import annotations

import io

from model.base import RecordError
from plugin.runs.progress import ProgressDisplay, eta_text
from plugin.runs.standing import Standing, advanced, waiting_items
from plugin.sync.report import SyncReport, warnings_by_kind

STUDENT = "a" * 24
OTHER = "b" * 24


def _full(status: str = "ok", **preview: object) -> SyncReport:
    report = SyncReport(
        run_id="full1", district_id="d", mode="full", status=status, ended="2026-12-01T10:00:00"
    )
    report.preview.update(
        {"synced": {"students": 5, "teachers": 2}, "groups_synced": {"schools": 1, "classes": 3}, **preview}
    )
    report.ambiguous.append({"clever_ids": [STUDENT], "keycloak_ids": ["k1", "k2"], "reason": "2 accounts"})
    report.skip(RecordError("no name", kind="users", clever_id=OTHER))
    return report


def test_a_full_run_sets_the_totals_and_the_waiting_list() -> None:
    standing = advanced(Standing(), _full())
    assert standing.people == {"students": 5, "teachers": 2, "staff": 0, "district_admins": 0, "parents": 0}
    assert standing.groups == {"schools": 1, "classes": 3}
    assert standing.last_full["run_id"] == "full1" and standing.last_verify == {}
    kinds = {kind: [i["clever_id"] for i in items] for kind, items in standing.waiting_by_kind().items()}
    assert kinds == {"ambiguous": [STUDENT], "skipped": [OTHER]}
    assert standing.waiting_by_kind()["ambiguous"][0]["candidates"] == ["k1", "k2"]


def test_a_no_change_run_or_a_dry_run_changes_nothing() -> None:
    standing = advanced(Standing(), _full())
    before = standing.to_dict()
    for report in (
        SyncReport(mode="incremental", status="no-changes"),
        SyncReport(mode="full", status="dry-run", dry_run=True),
        SyncReport(mode="full", status="failed"),
        SyncReport(mode="full", status="held"),
    ):
        assert advanced(standing, report).to_dict() == before


def test_an_incremental_run_adds_and_subtracts_and_keeps_the_waiting_list() -> None:
    standing = advanced(Standing(), _full())
    later = SyncReport(run_id="inc1", mode="incremental", status="ok")
    later.kinds["students"]["created"] = 2
    later.kinds["students"]["disabled"] = 1
    later.kinds["classes"]["created"] = 1
    later.wait(
        "suspicious-link", "c" * 24, "a link the sync did not make", "keep or unlink", keycloak_id="k9"
    )
    standing = advanced(standing, later)
    assert standing.people["students"] == 6 and standing.groups["classes"] == 4
    assert standing.last_full["run_id"] == "full1" and standing.last_applied["run_id"] == "inc1"
    assert sorted(standing.waiting_by_kind()) == ["ambiguous", "skipped", "suspicious-link"]


def test_a_later_full_run_drops_what_it_no_longer_reports() -> None:
    standing = advanced(Standing(), _full())
    clean = SyncReport(run_id="full2", mode="full", status="ok")
    clean.preview.update({"synced": {"students": 6}, "groups_synced": {}, "verified": True})
    standing = advanced(standing, clean)
    assert standing.waiting == [] and standing.people["students"] == 6
    assert standing.last_verify["run_id"] == "full2"


def test_waiting_items_are_one_per_kind_and_person() -> None:
    report = _full()
    report.wait("ambiguous", STUDENT, "again", "choose")
    items = waiting_items(report)
    assert sorted((i["kind"], i["clever_id"]) for i in items) == [("ambiguous", STUDENT), ("skipped", OTHER)]


def test_warnings_of_one_kind_are_grouped_with_a_count() -> None:
    warnings = [
        f"{STUDENT}: account is read-only (LDAP federation in READ_ONLY mode): linked",
        f"{OTHER}: account is read-only (LDAP federation in READ_ONLY mode): linked",
        "School 'Lincoln' (" + "c" * 24 + "): 2 sections named 'X' get separate groups",
    ]
    groups = warnings_by_kind(warnings)
    assert [(g["count"], len(g["items"])) for g in groups] == [(2, 2), (1, 1)]
    assert groups[0]["kind"] == "…: account is read-only (LDAP federation in READ_ONLY mode): linked"


def test_the_terminal_display_shows_stage_rate_and_eta() -> None:
    clock = iter([0.0, 10.0, 20.0])
    out = io.StringIO()
    display = ProgressDisplay(out, tty=True, now=lambda: next(clock))
    display("keycloak", 0, 100)
    display("keycloak", 50, 100)
    display("keycloak", 100, 100)
    display.close()
    frames = out.getvalue().split("\r\033[K")
    assert "writing to Keycloak and LDAP" in frames[2] and "50/100" in frames[2]
    assert "5/s" in frames[2] and "ETA 0:10" in frames[2]
    assert "done in 0:20" in frames[3] and out.getvalue().endswith("\n")


def test_plain_lines_when_not_a_terminal() -> None:
    clock = iter([0.0, 1.0, 2.0, 7.0, 8.0])
    out = io.StringIO()
    display = ProgressDisplay(out, tty=False, every=5.0, now=lambda: next(clock))
    display("reading", 0, 0)
    display("keycloak", 1, 10)  # a new stage: a line
    display("keycloak", 2, 10)  # within 5 s of the last line: none
    display("keycloak", 5, 10)  # 5 s on: a line
    display("keycloak", 10, 10)  # the end of the stage: a line
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in out.getvalue()
    assert lines[0].startswith("reading Clever, Keycloak and LDAP")
    assert "10/10" in lines[-1]


def test_eta_text() -> None:
    assert (eta_text(59.6), eta_text(61), eta_text(3725)) == ("1:00", "1:01", "1:02:05")
