"""The roster as Clever holds it: objects kept as compact JSON, plus sorted id indexes.

Objects are stored serialised (a 100k-student district is ~250k users; dicts would cost several
times the memory) and parsed only when a relationship must be read. Every index is a list of ids
kept in ascending order, so a page is a bisect and a slice: serving never builds pages ahead and
memory does not grow with the number of pages read.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

KINDS = ("districts", "schools", "users", "sections", "terms", "courses", "resources")
ROLES = ("student", "teacher", "staff", "district_admin", "contact")
# Roles that belong to schools; Clever's /schools/{id}/users knows only these three.
SCHOOL_ROLES = ("student", "teacher", "staff")

IndexKey = tuple[str, ...]
Obj = dict[str, Any]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Obj) -> str:
    """Compact JSON as stored and served (non-ASCII kept as is, as Clever sends UTF-8)."""
    return _ENCODER.encode(obj)


def user_schools(user: Obj, *, primary_only: bool = False) -> list[str]:
    """The school ids of a user across its school roles (primary ones only if asked)."""
    found: list[str] = []
    roles = user.get("roles") or {}
    for role in SCHOOL_ROLES:
        data = roles.get(role)
        if not isinstance(data, dict):
            continue
        candidates = (
            [data.get("school")] if primary_only else [data.get("school"), *(data.get("schools") or [])]
        )
        found.extend(s for s in candidates if isinstance(s, str) and s and s not in found)
    return found


def index_entries(kind: str, obj: Obj) -> set[IndexKey]:
    """Every index an object belongs to."""
    district = str(obj["id"] if kind == "districts" else obj.get("district") or "")
    keys: set[IndexKey] = {("all", kind, district)}
    if kind == "users":
        roles = obj.get("roles") or {}
        for role, data in roles.items():
            if data is None:
                continue
            keys.add(("role", role, district))
            if role in SCHOOL_ROLES and isinstance(data, dict):
                primary = data.get("school")
                for school in {*(data.get("schools") or []), *([primary] if primary else [])}:
                    keys |= {("school_users", school, role), ("school_users", school, "*")}
                if primary:
                    keys |= {("school_primary", primary, role), ("school_primary", primary, "*")}
            if role == "contact" and isinstance(data, dict):
                for rel in data.get("student_relationships") or []:
                    if isinstance(rel, dict) and rel.get("student"):
                        keys.add(("mycontacts", rel["student"]))
    elif kind == "sections":
        keys.add(("school_sections", str(obj.get("school") or "")))
        if obj.get("term_id"):
            keys.add(("term_sections", obj["term_id"]))
        if obj.get("course"):
            keys.add(("course_sections", obj["course"]))
        for member in {*(obj.get("students") or []), *(obj.get("teachers") or []), obj.get("teacher")}:
            if member:
                keys.add(("user_sections", member))
    return keys


class RosterStore:
    """All objects of all kinds, by id, with ascending-id indexes; not thread-safe on its own."""

    def __init__(self) -> None:
        self.raw: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._index: dict[IndexKey, list[str]] = {}

    def load(self, roster: Mapping[str, Iterable[Obj]]) -> None:
        """Bulk-load bare Clever objects; each kind's ids are appended in ascending order."""
        for kind in KINDS:
            objects = sorted(roster.get(kind) or (), key=lambda o: str(o["id"]))
            table = self.raw[kind]
            for obj in objects:
                table[obj["id"]] = dumps(obj)
                for key in index_entries(kind, obj):
                    self._index.setdefault(key, []).append(obj["id"])

    def get(self, kind: str, object_id: str) -> Obj | None:
        """The parsed object, or None."""
        raw = self.raw[kind].get(object_id)
        return None if raw is None else dict(json.loads(raw))

    def ids(self, *key: str) -> Sequence[str]:
        """The ascending ids of one index (empty if none)."""
        return self._index.get(tuple(key), ())

    def put(self, kind: str, obj: Obj) -> Obj | None:
        """Insert or replace an object, moving it between indexes; returns the old object."""
        old = self.get(kind, obj["id"])
        before = index_entries(kind, old) if old else set()
        after = index_entries(kind, obj)
        for key in before - after:
            self._discard(key, obj["id"])
        for key in after - before:
            insort(self._index.setdefault(key, []), obj["id"])
        self.raw[kind][obj["id"]] = dumps(obj)
        return old

    def remove(self, kind: str, object_id: str) -> Obj | None:
        """Delete an object and its index entries; returns it."""
        old = self.get(kind, object_id)
        if old is None:
            return None
        for key in index_entries(kind, old):
            self._discard(key, object_id)
        del self.raw[kind][object_id]
        return old

    def count(self, kind: str) -> int:
        """How many objects of a kind."""
        return len(self.raw[kind])

    def _discard(self, key: IndexKey, object_id: str) -> None:
        ids = self._index.get(key)
        if ids is None:
            return
        at = bisect_left(ids, object_id)
        if at < len(ids) and ids[at] == object_id:
            del ids[at]
        if not ids:
            del self._index[key]


def page(
    ids: Sequence[str], limit: int, starting_after: str | None, ending_before: str | None
) -> tuple[Sequence[str], bool, bool]:
    """One page of ascending ids: (ids, more before, more after); ``ending_before`` alone pages back."""
    lo = bisect_right(ids, starting_after) if starting_after else 0
    hi = bisect_left(ids, ending_before) if ending_before else len(ids)
    if ending_before and not starting_after:
        start, end = max(lo, hi - limit), hi
    else:
        start, end = lo, max(lo, min(hi, lo + limit))
    return ids[start:end], start > 0, end < len(ids)
