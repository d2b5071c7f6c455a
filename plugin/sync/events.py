"""Clever's events folded for an incremental run (``plugin.sync.snapshot_events``): per record its
last event, and what else the events say about who they reach.

``fold(events)`` gives the people (every role, contacts too), sections and schools the events touch,
the sections whose class name may change (created, deleted, renamed, moved to another school), the
students every version of a touched contact named (its relationships before and after), and a
``reason`` when the events call for a full run (a school created or deleted: the district's layout
changed). ``NeedsFullRun`` is how an incremental run says "a full run must do this".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.records import Event, School, Section, User


@dataclass(slots=True)
class Changes:
    """The events folded: the last event of each touched record, and who else they reach."""

    users: dict[str, Event] = field(default_factory=dict)
    sections: dict[str, Event] = field(default_factory=dict)
    schools: dict[str, Event] = field(default_factory=dict)
    renamed: set[str] = field(default_factory=set)  # sections whose class name may change
    students_of: dict[str, set[str]] = field(default_factory=dict)  # contact -> students it named
    reason: str = ""


def fold(events: list[Event]) -> Changes:
    """Per record, its last event (module doc); ``reason`` says why a full run is needed instead."""
    changes = Changes()
    for event in events:
        record = event.record
        if isinstance(record, School):
            if event.action != "updated":
                changes.reason = f"a school was {event.action}"
            changes.schools[record.clever_id] = event
        elif isinstance(record, User):
            changes.users[record.clever_id] = event
            for version in (record, event.previous):
                if isinstance(version, User) and version.student_relationships:
                    named = changes.students_of.setdefault(record.clever_id, set())
                    named.update(r.student for r in version.student_relationships)
        elif isinstance(record, Section):
            changes.sections[record.clever_id] = event
            if event.action != "updated" or {"name", "school"} & set(event.previous_attributes):
                changes.renamed.add(record.clever_id)
    return changes


class NeedsFullRun(Exception):
    """The events need a full run (the message says why)."""


def people_of(section: Section) -> tuple[str, ...]:
    """A section's teachers, then its students, each once."""
    teachers = (section.teacher, *section.teachers) if section.teacher else section.teachers
    return tuple(dict.fromkeys((*teachers, *section.students)))
