"""An in-memory district for sync tests: test data in the shape of ``connectors.clever.Roster``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from model.records import Event, Role, School, Section, User
from sandbox.generator_pools import FIRST as SANDBOX_FIRST
from tests.factories import make_contact, make_school, make_section, make_staff, make_student, make_teacher

FIRST = SANDBOX_FIRST[:16]  # the sandbox generator's first names: plain, accented, Polish, Danish
LAST = [
    "Smith",
    "Johnson",
    "García",
    "O'Brien",
    "Nguyễn",
    "Müller",
    "Smith-Jones",
    "Okafor",
    "Chen",
    "Patel",
    "Kim",
    "Walker",
    "Young",
]


@dataclass
class MemoryRoster:
    schools_: list[School]
    users_: list[User]
    sections_: list[Section]
    event_cursor: str | None = None

    def schools(self) -> Iterator[School]:
        return iter(self.schools_)

    def users(self, role: object = None) -> Iterator[User]:
        return iter(self.users_)

    def sections(self) -> Iterator[Section]:
        return iter(self.sections_)


@dataclass
class MemorySource:
    """A RosterSource over a MemoryRoster; ``events`` lists what tests append."""

    roster_: MemoryRoster
    events_: list[Event] = field(default_factory=list)

    def roster(self, district_id: str | None = None) -> MemoryRoster:
        return self.roster_

    def events(self, starting_after: str | None = None) -> Iterator[Event]:
        return iter(self.events_)

    # -- what an incremental run reads besides the events (``model.base.RecordReader``) --

    def stream(self, kind: str, cls: type, *, params: object = None, district_id: object = None) -> list[Any]:
        return list(getattr(self.roster_, f"{kind}_"))

    def related(self, kind: str, clever_id: str, relation: str, cls: type, **_: object) -> list[Any]:
        roster = self.roster_
        users = {u.clever_id: u for u in roster.users_}
        if (kind, relation) == ("users", "sections"):
            return [s for s in roster.sections_ if clever_id in (s.teacher, *s.teachers, *s.students)]
        if (kind, relation) == ("users", "mycontacts"):
            return [u for u in roster.users_ if any(r.student == clever_id for r in u.student_relationships)]
        if (kind, relation) == ("users", "mystudents"):
            named = (
                {r.student for r in users[clever_id].student_relationships} if clever_id in users else set()
            )
            return [users[s] for s in sorted(named) if s in users]
        if (kind, relation) == ("sections", "users"):
            section = next(s for s in roster.sections_ if s.clever_id == clever_id)
            listed = {section.teacher, *section.teachers, *section.students}
            return [users[c] for c in sorted(listed) if c in users]
        if (kind, relation) == ("schools", "sections"):
            return [s for s in roster.sections_ if s.school == clever_id]
        raise AssertionError(f"no {kind}/{relation} in a MemorySource")

    def one(self, kind: str, clever_id: str, cls: type) -> Any:
        return next((u for u in self.roster_.users_ if u.clever_id == clever_id), None)

    def replace_user(self, clever_id: str, **changes: object) -> None:
        users = self.roster_.users_
        index = next(i for i, u in enumerate(users) if u.clever_id == clever_id)
        users[index] = replace(users[index], **changes)  # type: ignore[arg-type]


def make_district_roster(
    students: int = 40, *, schools: int = 2, seed: int = 1, contacts: bool = False
) -> MemoryRoster:
    """Schools with teachers, staff, students in sections of about 10 (6 sections a student)."""
    rng = random.Random(seed)
    school_list = [make_school(f"{name} School") for name in ("Lincoln", "Roosevelt", "Kennedy")[:schools]]
    users: list[User] = []
    sections: list[Section] = []
    for school in school_list:
        per = students // len(school_list)
        kids = [
            make_student(
                rng.choice(FIRST),
                rng.choice(LAST),
                school=school.clever_id,
                grade=str(rng.randint(1, 8)),
                district_username="",
            )
            for _ in range(per)
        ]
        teachers = [
            make_teacher(rng.choice(FIRST), rng.choice(LAST), school=school.clever_id)
            for _ in range(max(1, per // 10))
        ]
        users += kids + teachers + [make_staff("Pat", "Office", school=school.clever_id)]
        for i in range(max(1, per // 10) * 2):
            members = rng.sample(kids, min(len(kids), 10))
            sections.append(
                make_section(
                    f"Class {i % 5}",
                    school=school.clever_id,
                    teachers=[teachers[i % len(teachers)].clever_id],
                    students=[k.clever_id for k in members],
                )
            )
        if contacts:
            users += [
                make_contact(
                    f"Parent {k.last_name}", students=[k.clever_id], email=f"p{k.clever_id[-6:]}@example.org"
                )
                for k in kids[:3]
            ]
    return MemoryRoster(school_list, users, sections)


__all__ = ["MemoryRoster", "MemorySource", "Role", "make_district_roster"]
