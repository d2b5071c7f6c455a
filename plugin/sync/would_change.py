"""Who a held run (or a dry run) would disable or remove: the list an admin reviews before Approve.

The brake holds a run that would disable or remove too much (``plugin.sync.brake``); its counts
alone do not let an admin judge it. ``would_change(plan, current)`` names each person it would
disable (kind, Clever id, username, name, the directory entry of a read-only account), each class
it would retire (name, school, Clever id, members now) and each membership it would remove (the
group, the person), from the plan and the realm as read (pure: no I/O). Names are shown to the realm
admins who decide, on the page, in its CSV and in the CLI's JSON; they are never logged.

Stored beside the run's report (``plugin.runs.changes``), not in it: a report is read with every
history listing, and a held rollover may list tens of thousands of people. Each list keeps at
most ``LIST_LIMIT`` rows; ``totals`` are always complete, and ``confirmation`` is what Approve must
repeat (``plugin.admin.actions.approve``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from model.state import CurrentGroup, DesiredState, DirectoryState, GroupSpec, Plan
from plugin.sync.plan import current_kind

LIST_LIMIT = 50_000
CSV_COLUMNS = (
    "change",
    "kind",
    "clever_id",
    "username",
    "first_name",
    "last_name",
    "group",
    "school",
    "detail",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class WouldChange:
    """The people, classes and memberships a run would disable or remove, and their totals."""

    people: list[dict[str, str]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, str]] = field(default_factory=list)
    # Accounts retention would delete or unlink (``plugin.sync.retention.Due`` as dicts); their
    # totals ``deleted`` and ``unlinked`` are in ``totals`` only when not zero.
    retention: list[dict[str, str]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: {"people": 0, "classes": 0, "memberships": 0})

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())

    @property
    def confirmation(self) -> dict[str, int]:
        """What an admin confirms: the totals they were shown."""
        return dict(self.totals)

    def sentence(self) -> str:
        """The totals in words: "disable 25 people, retire 2 classes and remove 130 memberships"."""
        parts = [
            f"disable {self.totals['people']} {'person' if self.totals['people'] == 1 else 'people'}",
            f"retire {self.totals['classes']} class{'' if self.totals['classes'] == 1 else 'es'}",
            f"remove {self.totals['memberships']} membership{'' if self.totals['memberships'] == 1 else 's'}",
        ]
        for key, verb in (("deleted", "delete"), ("unlinked", "unlink")):
            if count := self.totals.get(key, 0):
                parts.append(f"{verb} {count} departed account{'' if count == 1 else 's'} (retention)")
        return f"{', '.join(parts[:-1])} and {parts[-1]}"

    def add_retention(self, rows: list[dict[str, str]]) -> None:
        """The accounts retention would delete or unlink (``plugin.sync.retention.Retention.rows``)."""
        self.retention = rows[:LIST_LIMIT]
        for key, action in (("deleted", "delete"), ("unlinked", "unlink")):
            if count := sum(1 for row in rows if row["action"] == action):
                self.totals[key] = count

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WouldChange:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def rows(self) -> Iterator[dict[str, str]]:
        """One row per change, in ``CSV_COLUMNS``."""
        for person in self.people:
            yield {
                **person,
                "change": "disable account",
                "group": "",
                "school": "",
                "detail": person["ldap_dn"],
            }
        for group in self.classes:
            yield {
                "change": "retire class",
                "kind": "classes",
                "clever_id": group["clever_id"],
                "group": group["name"],
                "school": group["school"],
                "detail": f"{group['members']} members now",
            }
        for membership in self.memberships:
            yield {**membership, "change": "remove from group", "detail": ""}
        for row in self.retention:
            change = "delete account" if row["action"] == "delete" else "unlink account"
            yield {**row, "change": change, "detail": f"left Clever {row['removed_at']}"}

    def csv(self) -> str:
        """Every listed change as CSV (UTF-8 text, a header row; cells safe to open in a spreadsheet)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({column: _cell(row.get(column, "")) for column in CSV_COLUMNS})
        return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def would_change(plan: Plan, current: DirectoryState, desired: DesiredState | None = None) -> WouldChange:
    """What ``plan`` would disable or remove, named from ``current`` (the realm as the run read it)
    and ``desired`` (the groups an incremental run did not read are named from the roster)."""
    by_keycloak_id = {user.keycloak_id: user for user in current.users.values()}
    by_group_id = {group.keycloak_id: group for group in current.groups.values()}
    wanted = desired.groups if desired is not None else {}
    found = WouldChange(
        totals={
            "people": len(plan.disable_users),
            "classes": len(plan.retire_groups),
            "memberships": len(plan.remove_members),
        }
    )
    for update in plan.disable_users[:LIST_LIMIT]:
        user = by_keycloak_id.get(update.keycloak_id)
        found.people.append(
            {
                "kind": update.kind,
                "clever_id": update.clever_id,
                "keycloak_id": update.keycloak_id,
                "username": user.username if user else "",
                "first_name": user.first_name if user else "",
                "last_name": user.last_name if user else "",
                "ldap_dn": user.ldap_dn if user else "",
            }
        )
    for keycloak_id, spec in plan.retire_groups[:LIST_LIMIT]:
        group = current.groups.get(spec.key)
        found.classes.append(
            {
                "clever_id": spec.key.removeprefix("section:"),
                "keycloak_id": keycloak_id,
                "name": spec.name,
                "school": _school(group, by_group_id),
                "members": len(current.members.get(spec.key, ())) + current.settled.get(spec.key, 0),
            }
        )
    for membership in plan.remove_members[:LIST_LIMIT]:
        user = by_keycloak_id.get(membership.keycloak_id)
        group_name, school = _named(membership.group, current, by_group_id, wanted)
        found.memberships.append(
            {
                "kind": current_kind(user) if user else "",
                "clever_id": user.clever_id if user else "",
                "username": user.username if user else membership.keycloak_id,
                "first_name": user.first_name if user else "",
                "last_name": user.last_name if user else "",
                "group": group_name,
                "school": school,
            }
        )
    return found


def _named(
    key: str,
    current: DirectoryState,
    by_group_id: Mapping[str, CurrentGroup],
    wanted: Mapping[str, GroupSpec],
) -> tuple[str, str]:
    """A group's name and its school's, from the realm as read, else the roster, else its key."""
    group = current.groups.get(key)
    if group is not None:
        return group.name, _school(group, by_group_id)
    spec = wanted.get(key)
    if spec is None:
        return _role_group(key, current, wanted)
    parent = spec.parent
    while parent is not None and parent in wanted and wanted[parent].kind != "school":
        parent = wanted[parent].parent
    return spec.name, wanted[parent].name if parent is not None and parent in wanted else ""


def _school(group: CurrentGroup | None, by_group_id: Mapping[str, CurrentGroup]) -> str:
    """The name of the school a group is under (``/Clever/<School>/Classes/<class>``), or ""."""
    while group is not None and group.parent_id:
        parent = by_group_id.get(group.parent_id)
        if parent is not None and parent.key.startswith("school:") and parent.key.count(":") == 1:
            return parent.name
        group = parent
    return ""


def _role_group(key: str, current: DirectoryState, wanted: Mapping[str, GroupSpec]) -> tuple[str, str]:
    """``school:<id>:students`` as ("Students", the school's name); any other key as it is."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != "school":
        return key, ""
    school_key = ":".join(parts[:2])
    school = current.groups.get(school_key)
    name = school.name if school else wanted[school_key].name if school_key in wanted else ""
    return parts[2].title(), name or f"school {parts[1]}"  # a school this run did not read
