"""``Roster``: one district's data from ``connectors.clever.CleverClient`` as lazy streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from model.base import RecordError, RecordStreams
from model.records import Course, District, Role, School, Section, Term, User


@dataclass
class Roster:
    """One district's data as lazy streams; ``event_cursor`` was read before any of them.

    With ``school_ids`` the schools, users and sections are limited to those schools; users with no
    school (contacts, district admins) always pass, terms and courses are district-wide.
    """

    client: RecordStreams
    district_id: str
    school_ids: frozenset[str]
    event_cursor: str | None

    @property
    def bad_records(self) -> list[RecordError]:
        return self.client.bad_records

    @property
    def text_warnings(self) -> list[str]:
        """Fields left out of records because they were not valid text (``connectors.clever_text``)."""
        return self.client.text_warnings

    def _in_scope(self, schools: tuple[str, ...] | str) -> bool:
        if not self.school_ids:
            return True
        schools = (schools,) if isinstance(schools, str) else schools
        return not schools or not self.school_ids.isdisjoint(schools)

    def district(self) -> District | None:
        return next(self.client.stream("districts", District, district_id=self.district_id), None)

    def schools(self) -> Iterator[School]:
        stream = self.client.stream("schools", School, district_id=self.district_id)
        return (s for s in stream if self._in_scope(s.clever_id))

    def users(self, role: Role | str | None = None) -> Iterator[User]:
        params = {"role": str(role)} if role else None
        stream = self.client.stream("users", User, params=params, district_id=self.district_id)
        return (u for u in stream if self._in_scope(u.schools))

    def sections(self) -> Iterator[Section]:
        stream = self.client.stream("sections", Section, district_id=self.district_id)
        return (s for s in stream if self._in_scope(s.school))

    def terms(self) -> Iterator[Term]:
        return self.client.stream("terms", Term, district_id=self.district_id)

    def courses(self) -> Iterator[Course]:
        return self.client.stream("courses", Course, district_id=self.district_id)
