"""Roster changes while the sandbox runs, and the Events feed they produce.

Each change yields what Clever would send: ``<kind>.created`` with the new object,
``<kind>.updated`` with the object after the change and ``previous_attributes`` holding only the
changed fields' old values (nested objects diffed down to the changed leaves, as in Clever's
recorded events), ``<kind>.deleted`` with the object's last state. Events are kept 30 days.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.ids import IdSequence, iso
from sandbox.store import KINDS, Obj, RosterStore, dumps, user_schools

RETENTION_SECONDS = 30 * 24 * 3600
MUTABLE_KINDS = ("schools", "users", "sections", "terms", "courses")
_MISSING = object()


class MutationError(ValueError):
    """A change that cannot be applied (unknown id, bad kind, invalid object)."""


@dataclass
class Event:
    """One event, kept serialised with the facts the filters need."""

    id: str
    record_type: str
    schools: frozenset[str]
    created_at: float
    raw: str


@dataclass
class EventLog:
    """The ascending feed of events."""

    ids: list[str] = field(default_factory=list)
    by_id: dict[str, Event] = field(default_factory=dict)

    def append(self, event: Event) -> None:
        """Add an event (ids ascend by construction)."""
        self.ids.append(event.id)
        self.by_id[event.id] = event

    def expire(self, now: float) -> None:
        """Drop events older than Clever's 30-day window from the head of the feed."""
        while self.ids and self.by_id[self.ids[0]].created_at < now - RETENTION_SECONDS:
            del self.by_id[self.ids.pop(0)]

    def select(self, record_types: Sequence[str], school: str | None) -> list[str]:
        """Ids of the events passing the ``record_type`` and ``school`` filters, ascending."""
        if not record_types and not school:
            return self.ids
        return [
            i
            for i in self.ids
            if (not record_types or self.by_id[i].record_type in record_types)
            and (not school or school in self.by_id[i].schools)
        ]


def diff(old: Any, new: Any) -> Any:
    """The old values of what changed between two objects; dicts are diffed key by key."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed = {}
        for key in old.keys() | new.keys():
            before, after = old.get(key, _MISSING), new.get(key, _MISSING)
            if before != after and key != "last_modified":
                changed[key] = None if before is _MISSING else diff(before, after)
        return changed
    return old


def merge(target: Obj, changes: Obj) -> Obj:
    """``changes`` merged into a copy of ``target``: dicts recursively, ``None`` deletes a key."""
    result = copy.deepcopy(target)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class Mutator:
    """Applies changes to the store and records their events; callers hold the state lock."""

    def __init__(
        self,
        store: RosterStore,
        log: EventLog,
        clock: Callable[[], float],
        validate: Callable[[str, Obj], None],
        district_id: str,
    ) -> None:
        self.store, self.log, self.clock, self.validate = store, log, clock, validate
        self.district_id = district_id
        self._event_ids = IdSequence(machine=0xC1E7E4E500)
        self._object_ids = IdSequence(machine=0x5A4DB0C500)

    def apply(self, op: Obj) -> list[Obj]:
        """Apply one change given as JSON (see ``POST /sandbox/mutations``); returns its events."""
        kind = op.get("kind", "users")
        if op.get("op") != "move_student" and kind not in MUTABLE_KINDS:
            raise MutationError(f"kind must be one of {', '.join(MUTABLE_KINDS)}, got {kind!r}")
        match op.get("op"):
            case "create":
                return self.create(kind, op.get("object") or {})
            case "update":
                return self.update(kind, str(op.get("id", "")), op.get("changes") or {})
            case "delete":
                return self.delete(kind, str(op.get("id", "")))
            case "move_student":
                return self.move_student(
                    str(op.get("student")), str(op.get("from_section")), str(op.get("to_section"))
                )
        raise MutationError(f"op must be create, update, delete or move_student, got {op.get('op')!r}")

    def create(self, kind: str, obj: Obj) -> list[Obj]:
        """Add an object (id, district and timestamps filled in when missing)."""
        now = self.clock()
        obj = {"id": self._object_ids.next(now), "district": self.district_id, **obj}
        if kind in ("schools", "users", "sections"):
            obj.setdefault("created", iso(now))
            obj.setdefault("last_modified", iso(now))
        if self.store.get(kind, obj["id"]) is not None:
            raise MutationError(f"{kind} {obj['id']} already exists")
        self.validate(kind, obj)
        self.store.put(kind, obj)
        return [self._emit(kind, "created", obj)]

    def update(self, kind: str, object_id: str, changes: Obj) -> list[Obj]:
        """Change fields of an object; one ``updated`` event unless nothing changed."""
        old = self._existing(kind, object_id)
        new = merge(old, {k: v for k, v in changes.items() if k != "id"})
        previous = diff(old, new)
        if not previous:
            return []
        if "last_modified" in new:
            new["last_modified"] = iso(self.clock())
        self.validate(kind, new)
        self.store.put(kind, new)
        return [self._emit(kind, "updated", new, previous)]

    def delete(self, kind: str, object_id: str) -> list[Obj]:
        """Remove an object; a removed person also leaves their sections and contacts' lists."""
        events: list[Obj] = []
        if kind == "users":
            events.extend(self._detach_user(object_id))
        old = self.store.remove(kind, object_id)
        if old is None:
            raise MutationError(f"no {kind} with id {object_id!r}")
        events.append(self._emit(kind, "deleted", old))
        return events

    def move_student(self, student: str, from_section: str, to_section: str) -> list[Obj]:
        """Take a student out of one section and into another (two ``sections.updated``)."""
        self._existing("users", student)
        source, target = self._existing("sections", from_section), self._existing("sections", to_section)
        if student not in source.get("students", []):
            raise MutationError(f"student {student} is not in section {from_section}")
        events = self.update(
            "sections", from_section, {"students": [s for s in source["students"] if s != student]}
        )
        joined = sorted({*target.get("students", []), student})
        return events + self.update("sections", to_section, {"students": joined})

    def _detach_user(self, user_id: str) -> list[Obj]:
        events = []
        for section_id in list(self.store.ids("user_sections", user_id)):
            section = self._existing("sections", section_id)
            changes: Obj = {
                "students": [s for s in section.get("students", []) if s != user_id],
                "teachers": [t for t in section.get("teachers", []) if t != user_id],
            }
            if section.get("teacher") == user_id:
                changes["teacher"] = changes["teachers"][0] if changes["teachers"] else ""
            events += self.update("sections", section_id, changes)
        for contact_id in list(self.store.ids("mycontacts", user_id)):
            contact = self._existing("users", contact_id)
            kept = [
                r for r in contact["roles"]["contact"]["student_relationships"] if r.get("student") != user_id
            ]
            events += self.update(
                "users", contact_id, {"roles": {"contact": {"student_relationships": kept}}}
            )
        return events

    def _existing(self, kind: str, object_id: str) -> Obj:
        obj = self.store.get(kind, object_id) if kind in KINDS else None
        if obj is None:
            raise MutationError(f"no {kind} with id {object_id!r}")
        return obj

    def _emit(self, kind: str, verb: str, obj: Obj, previous: Obj | None = None) -> Obj:
        now = self.clock()
        data: Obj = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event_id = self._event_ids.next(now)
        event = {"id": event_id, "type": f"{kind}.{verb}", "created": iso(now), "data": data}
        schools = (
            {obj["id"]} if kind == "schools" else {obj.get("school", "")} if kind == "sections" else set()
        )
        if kind == "users":
            schools = set(user_schools(obj))
        self.log.append(Event(event_id, kind, frozenset(schools - {""}), now, dumps(event)))
        return dict(json.loads(dumps(event)))
