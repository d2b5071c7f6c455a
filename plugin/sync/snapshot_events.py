"""An incremental run's snapshot: the records Clever's events touch, plus what mapping them needs
exactly as a full run maps them, and the ``Scope`` those records decide (``plugin.sync.scope``).

What is read besides the events (a few at a time, ``WORKERS`` requests at once):

* every school (one call): school groups and their role groups are always decided;
* each person the events name (``users.*``, contacts too): their record is the event's; their
  sections (``/users/{id}/sections``, or when a request each would cost more than the district's
  sections as a list, ``/sections``: ``listing_cheaper``) give every class they belong in;
* with Sync Parent Data: a student's contacts (``/users/{id}/mycontacts``, or when a request each
  would cost more than the district's contacts as a list, ``/users?role=contact``: the contacts
  whose ``student_relationships`` name them) give their ``clever_relationships``, and those
  parents are decided too (a parent's schools follow the child's); a contact's students, before
  and after its change, are decided (their relationships change) and read
  (``/users/{id}/mystudents``, or the user when a student left the contact);
* each class the events name (``sections.*``): its record is the event's, so its teachers are
  decided; a class created or deleted, or one whose people changed in more than one person not
  already decided, has its people read (``/sections/{id}/users``) and its whole member list decided;
  otherwise the people who joined or left it (``previous_attributes``, over all its events) are
  decided as a person named by an event is (their record ``/users/{id}``, their sections), which
  decides their membership of it too: a departure's dozen ``sections.updated`` cost nothing, a move
  two requests, where the class's people were a request and a member list each (``member_routes``);
* the teachers of each class the events name (its ``clever_teachers`` keeps only people of the
  roster, as a full run's does): those not read yet, one request each, or when that would cost more
  than the district's teachers a page at a time (``/users?role=teacher``, ``RECORDS_A_REQUEST``),
  that list, keeping theirs (one not found there, a request of its own);
* class names: with Force Unique Class Names a name is its section's own; without, a class created,
  deleted, renamed or moved can change its school's other names (collisions), so every section of
  that school is read (``/schools/{id}/sections``, or the list's if it was read) and their names
  are decided.

``NeedsFullRun`` (a full run reads instead, the report's warning says why): a school created or
deleted, or more people or classes changed than a full run would take longer for (``FULL_RATIO``).

Assumed of Clever, as its Events do and the sandbox plays: a student leaving a contact changes the
contact (a ``users.updated`` of the contact), a removed person leaves their sections (a
``sections.updated``), and an update's ``previous_attributes`` holds the old value of every field
it changed (the old ``students``, ``teachers``, ``teacher``); an update without the record before it
has its whole member list read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from connectors.clever import StaleCursorError
from connectors.pooling import bounded_map
from mappers.layout import school_keys
from model.base import RecordReader, RosterSource
from model.records import Event, Role, School, Section, User
from plugin.config.settings import SyncOptions
from plugin.sync.brake import people_total
from plugin.sync.report import SyncReport
from plugin.sync.scope import Scope
from plugin.sync.snapshot import START_OF_FEED, NeedsFullRun, ScopedRoster, Snapshot, people_of

FULL_RATIO = 0.2  # more changed people (or classes) than this share of the district: a full run
WORKERS = 4
# A request for one record costs as much as this many records of a listing's page (measured at M,
# in-process sandbox: a person's request 6-7 ms; 24,387 people in 3 pages of 10,000, 1.9-2.6 s).
RECORDS_A_REQUEST = 100
PAGE = 10_000
FEED_KEEPS = timedelta(days=29)  # Clever keeps 30 days; a day of margin
R = TypeVar("R")


def events_since(source: RosterSource, cursor: str | None, report: SyncReport) -> list[Event] | None:
    """Clever's events after ``cursor``; None when the cursor is refused or too old (a full run)."""
    after: str | None = cursor
    if cursor and cursor.startswith(START_OF_FEED):
        # The feed was empty at the last full run: every event in it now came after that run,
        # unless that run is older than the feed's 30 days.
        then = datetime.fromisoformat(cursor.removeprefix(START_OF_FEED))
        if datetime.now(UTC) - then > FEED_KEEPS:
            report.warnings.append("the last full sync is older than Clever's 30-day events: full sync")
            return None
        after = None
    try:
        return list(source.events(after))
    except StaleCursorError:
        report.warnings.append("the event cursor is older than Clever's 30-day window: full sync")
        return None


@dataclass(slots=True)
class Changes:
    """The events folded: the last event of each touched record, and who else they reach."""

    users: dict[str, Event] = field(default_factory=dict)
    sections: dict[str, Event] = field(default_factory=dict)
    schools: dict[str, Event] = field(default_factory=dict)
    renamed: set[str] = field(default_factory=set)  # sections whose class name may change
    students_of: dict[str, set[str]] = field(default_factory=dict)  # contact -> students it named
    joined_or_left: dict[str, set[str]] = field(default_factory=dict)  # section -> its people changed
    whole: set[str] = field(default_factory=set)  # sections created, deleted or without a before
    reason: str = ""
    listed: set[str] = field(default_factory=set)  # sections whose whole member list is decided
    movers: set[str] = field(default_factory=set)  # people decided because a class they left or joined

    def decided(self) -> int:
        """How many people the snapshot decides before Sync Parent Data adds any."""
        return len(self.users.keys() | self.movers)


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
            if event.action == "updated" and isinstance(event.previous, Section):
                people = changes.joined_or_left.setdefault(record.clever_id, set())
                people.update(_joined_or_left(event.previous, record))
            else:
                changes.whole.add(record.clever_id)
    member_routes(changes)
    return changes


def _joined_or_left(before: Section, after: Section) -> set[str]:
    """The people whose place in a class changed: in or out of its teachers, or of its students."""
    teachers = [{version.teacher, *version.teachers} - {""} for version in (before, after)]
    return (teachers[0] ^ teachers[1]) | (set(before.students) ^ set(after.students))


def member_routes(changes: Changes) -> None:
    """Which touched classes have their whole member list read (``changes.listed``) and which
    have the people who joined or left them decided instead (``changes.movers``): a class's list
    is a request to Clever and a member list from Keycloak; a person not decided yet is two
    requests and their groups, so a class is listed when more than one of its changed people
    would be new (module doc)."""
    decided = set(changes.users)
    for section_id in sorted(changes.sections):
        new = changes.joined_or_left.get(section_id, set()) - decided
        if section_id in changes.whole or len(new) > 1:
            changes.listed.add(section_id)
        else:
            decided |= new
            changes.movers |= new


def listing_cheaper(requests: int, total: int) -> bool:
    """Whether ``total`` records as a list (pages of ``PAGE``) cost less than ``requests`` requests
    of one record or relation each (``RECORDS_A_REQUEST``); an unknown ``total`` (0): the requests."""
    return bool(total) and requests > -(-total // PAGE) + total / RECORDS_A_REQUEST


class _Reads:
    """What this snapshot read of Clever: the people's records, each relation read once."""

    def __init__(self, reader: RecordReader, district_id: str, totals: Mapping[str, int]) -> None:
        self.reader = reader
        self.district_id = district_id
        # The district's people and parents, as the last full run counted them (the ``/users`` list
        # holds the contacts too when their accounts are not synced: it may cost up to twice this).
        self.district_people = people_total(totals)
        self.district_contacts = totals.get("parents", 0)
        self.users: dict[str, User] = {}
        self.sections: dict[str, Section] = {}
        self.every_section: list[Section] | None = None  # ``/sections``, when it was read

    def sections_of(self, ids: list[str], classes: int) -> None:
        """The sections ``ids`` are in, into ``sections``: a request each, or the district's
        ``classes`` as a list when that costs less (``listing_cheaper``)."""
        if listing_cheaper(len(ids), classes):
            self.every_section = list(self.reader.stream("sections", Section, district_id=self.district_id))
            wanted = set(ids)
            for section in self.every_section:
                if wanted.intersection(people_of(section)):
                    self.sections[section.clever_id] = section
            return
        for found in self.related("users", ids, "sections", Section).values():
            self.sections.update((s.clever_id, s) for s in found)

    def sections_at(self, schools: set[str]) -> dict[str, list[Section]]:
        """Every section of each of ``schools``: from the list when it was read, else a request each."""
        if self.every_section is None:
            return self.related("schools", schools, "sections", Section)
        found: dict[str, list[Section]] = {school: [] for school in schools}
        for section in self.every_section:
            if section.school in found:
                found[section.school].append(section)
        return found

    def related(self, kind: str, ids: Iterable[str], relation: str, cls: type[R]) -> dict[str, list[R]]:
        """``/<kind>/<id>/<relation>`` of each id, several at once."""
        items = sorted(set(ids))

        def one(clever_id: str) -> list[R]:
            return list(self.reader.related(kind, clever_id, relation, cls, district_id=self.district_id))

        return dict(zip(items, bounded_map(one, items, WORKERS), strict=True))

    def people(self, ids: Iterable[str], relation: str) -> dict[str, set[str]]:
        """The people related to each of ``ids`` (their contacts, or their students), a request
        each, their records kept: id -> the related people's ids."""
        found: dict[str, set[str]] = {}
        for clever_id, users in self.related("users", ids, relation, User).items():
            for user in users:
                self.users.setdefault(user.clever_id, user)
            found[clever_id] = {user.clever_id for user in users}
        return found

    def contacts_of(self, students: Iterable[str]) -> dict[str, set[str]]:
        """Each of ``students``' contacts (student -> contact ids; their records kept): a request
        each (``mycontacts``), or the district's contacts as a list when that costs less
        (``listing_cheaper``; streamed, only the contacts naming them kept)."""
        wanted = set(students)
        if not listing_cheaper(len(wanted), self.district_contacts):
            return self.people(wanted, "mycontacts")
        found: dict[str, set[str]] = {s: set() for s in wanted}
        listed = self.reader.stream("users", User, params={"role": "contact"}, district_id=self.district_id)
        for contact in listed:
            named = wanted.intersection(r.student for r in contact.student_relationships)
            if named and contact.has(Role.CONTACT):
                self.users.setdefault(contact.clever_id, contact)
                for student in named:
                    found[student].add(contact.clever_id)
        return found

    def missing(self, ids: Iterable[str]) -> None:
        """The records of people not read yet (one call each, or the district's ``/users`` list
        when that costs less: ``listing_cheaper``; gone from Clever: no record)."""
        items = sorted(set(ids) - set(self.users))
        if listing_cheaper(len(items), self.district_people):
            wanted = set(items)
            listed = self.reader.stream("users", User, district_id=self.district_id)
            self.users.update((user.clever_id, user) for user in listed if user.clever_id in wanted)
            return

        def one(clever_id: str) -> User | None:
            return self.reader.one("users", clever_id, User)

        for user in bounded_map(one, items, WORKERS):
            if user is not None:
                self.users[user.clever_id] = user


def events_snapshot(
    reader: RecordReader,
    district_id: str,
    events: list[Event],
    options: SyncOptions,
    totals: Mapping[str, int],
) -> Snapshot:
    """The snapshot of ``events`` (module doc); ``totals``: the district's people and classes as the
    last full run counted them (``plugin.sync.applied``), to tell when a full run is cheaper."""
    changes = fold(events)
    if changes.reason:
        raise NeedsFullRun(changes.reason)
    if changes.decided() > max(50, FULL_RATIO * people_total(totals)):
        raise NeedsFullRun(f"{changes.decided()} people changed")
    if len(changes.sections) > max(100, FULL_RATIO * totals.get("classes", 0)):
        raise NeedsFullRun(f"{len(changes.sections)} classes changed")
    reads = _Reads(reader, district_id, totals)
    people = _people(changes, reads, options.sync_parent_data)
    named = _sections(changes, reads, people, options.force_unique_class_names, totals.get("classes", 0))
    _teachers(changes, reads, totals.get("teachers", 0))
    schools = list(reader.stream("schools", School, district_id=district_id))
    roster = ScopedRoster(
        schools,
        list(reads.users.values()),
        list(reads.sections.values()),
        bad_records=list(getattr(reader, "bad_records", [])),
        text_warnings=list(getattr(reader, "text_warnings", [])),
    )
    return Snapshot(roster, _scope(changes, people, named, schools), events[-1].event_id, len(events))


def _people(changes: Changes, reads: _Reads, parents: bool) -> set[str]:
    """The people the snapshot decides (their records read), and with Sync Parent Data the records
    their relationships need."""
    people = set(changes.users) | changes.movers
    for clever_id, event in changes.users.items():
        if event.action != "deleted" and isinstance(event.record, User):
            reads.users[clever_id] = event.record
    reads.missing(changes.movers)  # one who left a class and Clever since: no record, departed
    return people | _relatives(changes, reads, people) if parents else people


def _relatives(changes: Changes, reads: _Reads, people: set[str]) -> set[str]:
    """Sync Parent Data: the changed students' contacts and the changed contacts' children, decided
    too; and as context (records read, not decided) the other students' contacts and the contacts'
    students, which their relationships need."""

    def with_role(ids: Iterable[str], role: Role) -> set[str]:
        return {c for c in ids if c in reads.users and reads.users[c].has(role)}

    children = {student for named in changes.students_of.values() for student in named}
    reads.missing(children)  # a child the contact no longer names: not among its students now
    # Every student's contacts at once (one list, or a request each): the changed students'
    # contacts are decided (a parent's schools follow their child's), the others' are context.
    contacts_of = reads.contacts_of(with_role(people | children, Role.STUDENT))
    changed = with_role(changes.users, Role.STUDENT)
    relatives = {contact for student in changed for contact in contacts_of[student]} | children
    reads.contacts_of(with_role(relatives, Role.STUDENT) - set(contacts_of))  # a contact and student: rare
    reads.people(with_role(people | relatives, Role.CONTACT), "mystudents")  # their relationships
    return relatives


def _sections(changes: Changes, reads: _Reads, people: set[str], unique: bool, classes: int) -> set[str]:
    """The sections the snapshot holds (``reads.sections``), the records of the people in the
    classes the events touch, and the sections whose names the snapshot decides; ``classes``: the
    district's, as the last full run counted them."""
    reads.sections_of(sorted(c for c in people if c in reads.users), classes)
    touched = {
        section_id: event.record
        for section_id, event in changes.sections.items()
        if event.action != "deleted" and isinstance(event.record, Section)
    }
    reads.sections.update(touched)
    listed = [section_id for section_id in touched if section_id in changes.listed]
    for members in reads.related("sections", listed, "users", User).values():
        for member in members:
            reads.users.setdefault(member.clever_id, member)
    if unique:
        return set(reads.sections)
    schools = {
        version.school
        for section_id in changes.renamed
        for version in (changes.sections[section_id].record, changes.sections[section_id].previous)
        if isinstance(version, Section)
    }
    named: set[str] = set()
    for found in reads.sections_at(schools).values():
        for section in found:
            reads.sections.setdefault(section.clever_id, section)
            named.add(section.clever_id)
    return named


def _teachers(changes: Changes, reads: _Reads, teachers: int) -> None:
    """The records of the teachers of the classes the events touch, not read yet (module doc);
    ``teachers``: the district's, as the last full run counted them."""
    wanted = {
        teacher
        for event in changes.sections.values()
        if event.action != "deleted" and isinstance(event.record, Section)
        for teacher in (event.record.teacher, *event.record.teachers)
        if teacher
    } - set(reads.users)
    if listing_cheaper(len(wanted), teachers):
        listed = reads.reader.stream("users", User, params={"role": "teacher"}, district_id=reads.district_id)
        reads.users.update((t.clever_id, t) for t in listed if t.clever_id in wanted)
    reads.missing(wanted)


def _scope(changes: Changes, people: set[str], named: set[str], schools: list[School]) -> Scope:
    groups = {"root", *(key for school in schools for key in school_keys(school.clever_id))}
    touched = {f"section:{section_id}" for section_id in changes.sections}
    alive = {f"section:{s}" for s, e in changes.sections.items() if e.action != "deleted"}
    return Scope(
        everything=False,
        people=frozenset(people),
        names=frozenset(groups | (touched - alive) | {f"section:{s}" for s in named}),
        attributes=frozenset(groups | alive),
        member_lists=frozenset(f"section:{section_id}" for section_id in changes.listed),
    )


__all__ = ["events_since", "events_snapshot", "fold", "listing_cheaper", "member_routes"]
