"""What a run reads from Clever: a ``Snapshot``, the records in its scope and what that scope is.

A full run's snapshot is the whole roster, streamed (``connectors.clever.Roster``), with the scope
``EVERYTHING``. An incremental run's is made from Clever's events since the saved cursor
(``plugin.sync.snapshot_events``): the records they touch plus what mapping those needs, held in a
``ScopedRoster``. Either way the map stage reads it through the same three streams
(``model.base.RosterView``), and the diff is told its ``Scope``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from model.base import RecordError, RosterSource, RosterView
from model.records import Role, School, Section, User
from plugin.sync.scope import EVERYTHING, Scope

# A cursor saved when Clever's events feed was empty: "start:<ISO time of that run>".
START_OF_FEED = "start:"


@dataclass
class Snapshot:
    """The Clever records of one run (``roster``), what they cover (``scope``), and the event
    cursor the next incremental run starts from once this one ends ``ok``."""

    roster: RosterView
    scope: Scope
    event_cursor: str
    events: int = 0  # Clever events it was made from (incremental runs)

    @property
    def notes(self) -> Any:
        """The roster's own warnings and bad records (``bad_records``, ``text_warnings``)."""
        return self.roster


@dataclass
class ScopedRoster:
    """An incremental run's records as the streams the map stage reads (``RosterView``)."""

    schools_: list[School]
    users_: list[User]
    sections_: list[Section]
    bad_records: list[RecordError] = field(default_factory=list)
    text_warnings: list[str] = field(default_factory=list)

    def schools(self) -> Iterator[School]:
        return iter(self.schools_)

    def users(self, role: Role | str | None = None) -> Iterator[User]:
        return iter(self.users_)

    def sections(self) -> Iterator[Section]:
        return iter(self.sections_)


class NeedsFullRun(Exception):
    """What an incremental run was asked to do needs a full run (the message says why)."""


def people_of(section: Section) -> tuple[str, ...]:
    """A section's teachers, then its students, each once."""
    teachers = (section.teacher, *section.teachers) if section.teacher else section.teachers
    return tuple(dict.fromkeys((*teachers, *section.students)))


def full_snapshot(source: RosterSource, district_id: str, started: str) -> Snapshot:
    """The whole roster: every record, streamed; the scope is everything."""
    roster = source.roster(district_id or None)
    return Snapshot(roster, EVERYTHING, roster.event_cursor or f"{START_OF_FEED}{started}")
