"""The district's standing state: what is synced now and who is waiting, beside the last run's deltas.

A run's report says what that run changed; an incremental run that changed nothing says zeros.
The admin page and ``keycloak-clever status`` need more: how many people of each kind are synced
*now*, how many groups, when the last full and verify runs were, and a waiting list of people and
records an admin must look at, which stays until resolved. ``Standing`` is that, kept in Redis
(``kcc:sync:standing:<district>``, JSON) and brought up to date by ``advance`` at the end of every
run (``plugin.runs.jobs.run_locked``):

* a full run that applied (``ok`` or ``partial``) saw the whole roster: its totals (``preview``'s
  ``synced`` and ``groups_synced``) replace the standing ones, and its waiting list replaces the
  standing list; a person it no longer reports is no longer waiting (resolved, or gone from Clever);
* an incremental run that applied adds its created and subtracts its disabled people and groups,
  and adds its waiting items to the list (one per kind and Clever id, the newest wins);
* dry runs, held, failed and no-change runs change nothing here (a held run waits in
  ``SyncState.held``, shown beside the list).

Waiting items are ``{"kind", "clever_id", "reason", "action", ...}`` (``SyncReport.wait``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from model.state import USER_KINDS
from plugin.sync.report import HELD_ACTIONS, SyncReport

PREFIX = "kcc:sync:standing:"
PEOPLE = USER_KINDS
GROUPS = ("schools", "classes")
APPLIED = ("ok", "partial")
WAITING_KINDS = {
    "ambiguous": "Ambiguous matches: more than one account could be this person; nobody was linked "
    "and no account was made",
    "possible-match": "Possible matches: an account that may be this person's; nobody was linked and "
    "no account was made until you confirm",
    "refused-link": "Links refused: the only account of this name holds more than the realm's defaults, "
    "or may not be linked; no account was made",
    "unlinked": "Unlinked people: their account's Clever link was removed; nobody is linked and no "
    "account is made until you choose",
    "suspicious-link": "Clever links the sync did not make",
    "failed": "Accounts Keycloak refused: no account yet",
    "skipped": "People Clever sends without what an account needs",
    "undisablable": "Departed people Keycloak would not disable: act in the directory",
    "directory-departed": "Departed people disabled here whose directory account is still active",
}
ACTIONS = HELD_ACTIONS


@dataclass
class Standing:
    """What is synced now (from the runs that applied) and the waiting list."""

    people: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PEOPLE, 0))
    groups: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    last_full: dict[str, str] = field(default_factory=dict)  # run_id, ended, status
    last_verify: dict[str, str] = field(default_factory=dict)
    last_applied: dict[str, str] = field(default_factory=dict)
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standing:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def waiting_by_kind(self) -> dict[str, list[dict[str, Any]]]:
        """The waiting list grouped by kind, in the order of ``WAITING_KINDS`` (then any other)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for kind in (*WAITING_KINDS, *sorted({i["kind"] for i in self.waiting} - set(WAITING_KINDS))):
            items = [item for item in self.waiting if item["kind"] == kind]
            if items:
                grouped[kind] = items
        return grouped


def waiting_items(report: SyncReport) -> list[dict[str, Any]]:
    """A run's waiting list: its ``waiting`` items (``SyncReport.wait``: ambiguous, failed, skipped
    people, suspicious links ...), and the ambiguities of reports made before those were listed."""
    items: list[dict[str, Any]] = []
    for ambiguity in report.ambiguous:
        for clever_id in ambiguity.get("clever_ids", []):
            items.append(
                {
                    "kind": "ambiguous",
                    "clever_id": clever_id,
                    "reason": ambiguity.get("reason", ""),
                    "action": ACTIONS["ambiguous"],
                    "candidates": list(ambiguity.get("keycloak_ids", [])),
                }
            )
    items.extend(dict(item) for item in report.waiting)
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        item.setdefault("run_id", report.run_id)
        unique[(item["kind"], item["clever_id"])] = item
    return list(unique.values())


def advanced(standing: Standing, report: SyncReport) -> Standing:
    """``standing`` after ``report``'s run (pure; see the module docstring for the rules)."""
    if report.dry_run or report.status not in APPLIED:
        return standing
    run = {"run_id": report.run_id, "ended": report.ended, "status": report.status, "mode": report.mode}
    standing.last_applied = run
    items = waiting_items(report)
    if report.mode == "full":
        synced = report.preview.get("synced")
        if isinstance(synced, dict):
            standing.people = {kind: int(synced.get(kind, 0)) for kind in PEOPLE}
        groups = report.preview.get("groups_synced")
        if isinstance(groups, dict):
            standing.groups = {kind: int(groups.get(kind, 0)) for kind in GROUPS}
        standing.last_full = run
        if report.preview.get("verified"):
            standing.last_verify = run
        standing.waiting = items
        return standing
    for kind in PEOPLE:
        counts = report.kinds.get(kind, {})
        standing.people[kind] = max(
            0, standing.people.get(kind, 0) + counts.get("created", 0) - counts.get("disabled", 0)
        )
    for kind in GROUPS:
        counts = report.kinds.get(kind, {})
        standing.groups[kind] = max(
            0, standing.groups.get(kind, 0) + counts.get("created", 0) - counts.get("disabled", 0)
        )
    merged = {(item["kind"], item["clever_id"]): item for item in standing.waiting}
    merged.update({(item["kind"], item["clever_id"]): item for item in items})
    standing.waiting = list(merged.values())
    return standing


class StandingStore:
    """Load, advance and save a district's ``Standing``."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def load(self, district_id: str) -> Standing:
        raw = self.redis.get(PREFIX + district_id)
        return Standing.from_dict(json.loads(raw)) if raw else Standing()

    def advance(self, report: SyncReport) -> Standing:
        """Bring the standing state up to date with a finished run (a no-op for runs that wrote nothing)."""
        standing = advanced(self.load(report.district_id), report)
        if report.status in APPLIED and not report.dry_run:
            self.redis.set(PREFIX + report.district_id, json.dumps(standing.to_dict()))
        return standing

    def forget(self, district_id: str, kind: str, clever_id: str) -> None:
        """Take one item off the waiting list (an admin resolved it)."""
        standing = self.load(district_id)
        standing.waiting = [
            item for item in standing.waiting if (item["kind"], item["clever_id"]) != (kind, clever_id)
        ]
        self.redis.set(PREFIX + district_id, json.dumps(standing.to_dict()))
