"""Retention's rule on plain data: who is deleted, who only unlinked, who kept, and the brake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.keycloak_retention import DisabledAccount
from model.state import CREATED_MARK
from plugin.sync.retention import DELETE, UNLINK, brake_reasons, created_by_sync, due, past_window, rule_words
from plugin.sync.would_change import WouldChange

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _account(
    keycloak_id: str, *, left_days: int | None = 40, mark: str | None = "made", federation: str = ""
) -> DisabledAccount:
    made = NOW - timedelta(days=400)
    attributes: dict[str, tuple[str, ...]] = {"clever_role": ("student",)}
    if left_days is not None:
        attributes["clever_removed_at"] = ((NOW - timedelta(days=left_days)).isoformat(),)
    if mark == "made":
        attributes[CREATED_MARK] = (made.isoformat(timespec="seconds"),)
    elif mark:
        attributes[CREATED_MARK] = (mark,)
    return DisabledAccount(
        keycloak_id, keycloak_id, "A", "B", attributes, int(made.timestamp() * 1000), federation
    )


def test_only_a_mark_no_later_than_the_account_itself_means_the_sync_created_it() -> None:
    assert created_by_sync(_account("a"))
    assert not created_by_sync(_account("b", mark=None))  # no mark: never delete
    assert not created_by_sync(_account("c", mark="not a time"))
    assert not created_by_sync(_account("d", mark=(NOW - timedelta(days=10)).isoformat()))  # merged later
    assert not created_by_sync(_account("e", federation="ldap-provider-id"))  # lives in the directory


def test_the_window_the_owner_and_the_roster_decide_who_is_due() -> None:
    accounts = [
        _account("old"),
        _account("recent", left_days=10),
        _account("linked", mark=None),
        _account("never-left", left_days=None),
        _account("foreign"),
        _account("back"),
    ]
    past = past_window(accounts, NOW, 30)
    assert [a.keycloak_id for a in past] == ["old", "linked", "foreign", "back"]
    owners = {"old": "c-old", "linked": "c-linked", "foreign": "", "back": "c-back"}
    found = due(past, owners, present={"c-back"})
    assert [(d.clever_id, d.action, d.kind) for d in found] == [
        ("c-linked", UNLINK, "students"),
        ("c-old", DELETE, "students"),
    ]


def test_a_mass_deletion_or_one_with_nothing_to_compare_is_held() -> None:
    items = due([_account(f"k{i}") for i in range(3)], {f"k{i}": f"c{i}" for i in range(3)}, set())
    assert brake_reasons(items, {"students": 100}, 0.10) == []
    assert brake_reasons(items, {"students": 20}, 0.10) == [
        "retention would delete or unlink 3 of 20 synced students (over 10%)"
    ]
    assert brake_reasons(items, {}, 0.10) == [
        "retention would delete or unlink 3 of students, none of whom is synced now (over 10%)"
    ]


def test_the_rule_in_words_and_what_a_held_run_would_delete() -> None:
    assert rule_words(0).startswith("the account of a person who left Clever stays disabled")
    assert "deleted 30 days after its person left Clever" in rule_words(30)
    assert "never deleted" in rule_words(1) and "1 day after" in rule_words(1)
    changes = WouldChange()
    changes.add_retention([{"action": "delete"}, {"action": "delete"}, {"action": "unlink"}])
    assert changes.confirmation == {"people": 0, "classes": 0, "memberships": 0, "deleted": 2, "unlinked": 1}
    assert changes.sentence() == (
        "disable 0 people, retire 0 classes, remove 0 memberships, delete 2 departed accounts (retention) "
        "and unlink 1 departed account (retention)"
    )
