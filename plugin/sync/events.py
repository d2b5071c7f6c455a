"""Clever's events folded for an incremental run (``plugin.sync.incremental``): per record its last event.

``fold(events, sync_parents=...)`` gives the touched people, sections and schools, and a ``reason``
when the events need a full run instead (a school created or deleted, a contact while Sync Parent
Data is on). ``Fallback`` is how the incremental run says "a full run must do this".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.records import Event, Role, School, Section, User


@dataclass(slots=True)
class Changes:
    """The events folded: the last state of each touched record."""

    users: dict[str, Event] = field(default_factory=dict)
    sections: dict[str, Event] = field(default_factory=dict)
    schools: dict[str, Event] = field(default_factory=dict)
    renamed: set[str] = field(default_factory=set)  # sections created or renamed
    reason: str = ""


def fold(events: list[Event], *, sync_parents: bool) -> Changes:
    """Per record, its last event; ``reason`` says why a full run is needed instead."""
    changes = Changes()
    for event in events:
        record = event.record
        if record is None:
            continue
        if event.collection == "schools":
            if event.action != "updated":
                changes.reason = f"a school was {event.action}"
            changes.schools[record.clever_id] = event
        elif event.collection == "users" and isinstance(record, User):
            if record.roles and record.roles <= {Role.CONTACT}:
                if sync_parents:
                    changes.reason = "a contact changed and Sync Parent Data is on"
                continue
            changes.users[record.clever_id] = event
        elif event.collection == "sections":
            changes.sections[record.clever_id] = event
            if event.action == "created" or "name" in event.previous_attributes:
                changes.renamed.add(record.clever_id)
    return changes


class Fallback(Exception):
    """The events need a full run (the message says why)."""


@dataclass
class EventRoster:
    """The changed people as a ``connectors.base.RosterView`` for ``desired_state`` (no sections:
    those are per event)."""

    schools_: list[School]
    users_: list[User]

    def schools(self) -> list[School]:
        return self.schools_

    def users(self, role: Role | str | None = None) -> list[User]:
        return self.users_

    def sections(self) -> list[Section]:
        return []


def people_of(section: Section) -> tuple[str, ...]:
    teachers = (section.teacher, *section.teachers) if section.teacher else section.teachers
    return tuple(dict.fromkeys((*teachers, *section.students)))


def people_of_key(changes: Changes, key: str) -> tuple[str, ...]:
    event = changes.sections.get(key.removeprefix("section:"))
    return people_of(event.record) if event and isinstance(event.record, Section) else ()
