"""Roster files: bare Clever objects per kind, checked with errors that name the item and field.

A roster file is ``{"districts": [...], "schools": [...], "users": [...], "sections": [...],
"terms": [...], "courses": [...]}`` (``resources`` optional), each item exactly what the Data API
returns inside ``data``. ``""``, ``null`` and a missing optional field are all accepted, as Clever
sends all three.

A section or a contact may name a user the file does not hold (a teacher, student or related
student Clever does not share with the app, as partial exports do), and a person may name a
school it does not hold (one not shared with the app): the file is served as it is,
and each such reference is one warning (``load_roster(path, warnings)``; ``sandbox serve`` prints
them at start). Any other bad reference or field refuses the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sandbox.ids import OBJECT_ID
from sandbox.store import KINDS, ROLES, Obj

GRADES = {"InfantToddler", "Preschool", "PreKindergarten", "TransitionalKindergarten", "Kindergarten",
          *map(str, range(1, 14)), "PostGraduate", "Ungraded", "Other", ""}  # fmt: skip
SUBJECTS = {"english/language arts", "math", "science", "social studies", "language", "homeroom/advisory",
            "interventions/online learning", "technology and engineering", "PE and health", "arts and music",
            "other", ""}  # fmt: skip
DOB = re.compile(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$")
Lookup = Callable[[str, str], Obj | None]


class RosterError(ValueError):
    """A roster file or object that Clever would never send; the message names item and field."""


def load_roster(path: Path | str, warnings: list[str] | None = None) -> dict[str, list[Obj]]:
    """Read and check a roster file; references to unknown users go to ``warnings`` (when given)."""
    try:
        # Bytes that are not UTF-8 are kept (as surrogates) and served as they were: real
        # exports have them, and the client must say so (``sandbox.data_api.json_response``).
        data = json.loads(Path(path).read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError as exc:
        raise RosterError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise RosterError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise RosterError(f"{path}: expected an object with {', '.join(KINDS)}")
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        raise RosterError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)} (known: {', '.join(KINDS)})"
        )
    for kind, items in data.items():
        if not isinstance(items, list):
            raise RosterError(f"{path}: {kind}: expected a list of {kind}, got {type(items).__name__}")
    try:
        check_roster(data, warnings)
    except RosterError as exc:
        raise RosterError(f"{path}: {exc}") from exc
    return data


def check_roster(roster: Mapping[str, list[Obj]], warnings: list[str] | None = None) -> None:
    """Check every object and every reference between them (unknown users: see the module doc)."""
    tables: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        for n, obj in enumerate(roster.get(kind) or []):
            where = f"{kind}[{n}]"
            if not isinstance(obj, dict):
                raise RosterError(f"{where}: expected an object, got {type(obj).__name__}")
            _check_id(obj, where)
            if obj["id"] in tables[kind]:
                raise RosterError(f"{where}: id: duplicate id {obj['id']!r}")
            tables[kind][obj["id"]] = obj
    if not tables["districts"]:
        raise RosterError("districts: a roster needs at least one district")
    for kind in KINDS:
        for n, obj in enumerate(roster.get(kind) or []):
            where = f"{kind}[{n}] (id {obj['id']})"
            check_object(kind, obj, lambda k, i: tables[k].get(i), where=where, unknown_users=warnings)


def check_object(
    kind: str, obj: Obj, lookup: Lookup, where: str | None = None, unknown_users: list[str] | None = None
) -> None:
    """Check one object's fields and references; ``lookup(kind, id)`` finds what it points at.

    With ``unknown_users`` a reference to a user that ``lookup`` does not find is a warning there.
    """
    where = where or f"{kind} {obj.get('id', '?')}"
    _check_id(obj, where)
    field = _Fields(obj, where, unknown_users=unknown_users)
    if kind != "districts":
        field.ref("district", "districts", lookup, required=True)
    if kind == "districts":
        field.strings("name", "sis_type", "portal_url", "launch_date", "state", "error")
        field.string_list("login_methods")
    elif kind == "schools":
        field.strings("name", "sis_id", "school_number", "created", "last_modified")
        field.enum("low_grade", GRADES)
        field.enum("high_grade", GRADES)
    elif kind == "sections":
        field.strings("name", "sis_id", "section_number", "period", "created", "last_modified")
        field.enum("grade", GRADES)
        field.enum("subject", SUBJECTS)
        field.ref("school", "schools", lookup, required=True)
        field.ref("term_id", "terms", lookup)
        field.ref("course", "courses", lookup)
        field.ref("teacher", "users", lookup, role="teacher")
        field.ref_list("teachers", lookup, role="teacher")
        field.ref_list("students", lookup, role="student")
    elif kind in ("terms", "courses"):
        field.strings("name", "number", "start_date", "end_date")
    elif kind == "users":
        _check_user(field, obj, lookup, where, unknown_users)


def _check_user(field: _Fields, obj: Obj, lookup: Lookup, where: str, unknown: list[str] | None) -> None:
    field.strings("email", "created", "last_modified")
    name = obj.get("name")
    if name is not None and not isinstance(name, dict):
        raise RosterError(f"{where}: name: expected an object with first/middle/last")
    _Fields(name or {}, f"{where}: name", "name.").strings("first", "middle", "last")
    roles = obj.get("roles")
    if not isinstance(roles, dict) or not any(v is not None for v in roles.values()):
        raise RosterError(f"{where}: roles: expected an object with at least one of {', '.join(ROLES)}")
    for role, data in roles.items():
        if role not in ROLES:
            raise RosterError(f"{where}: roles.{role}: unknown role (known: {', '.join(ROLES)})")
        if data is None:
            continue
        if not isinstance(data, dict):
            raise RosterError(f"{where}: roles.{role}: expected an object")
        sub = _Fields(data, where, f"roles.{role}.", unknown_users=unknown)
        sub.strings("sis_id", "title", "legacy_id", "state_id")
        if role in ("student", "teacher"):
            sub.ref("school", "schools", lookup, required=True)
        if role in ("student", "teacher", "staff"):
            sub.ref_list("schools", lookup, kind="schools")
        if role == "student":
            sub.enum("grade", GRADES)
            sub.enum("gender", {"M", "F", "X", ""})
            dob = data.get("dob")
            if dob not in (None, "") and not (isinstance(dob, str) and DOB.match(dob)):
                raise RosterError(f"{where}: roles.student.dob: expected M/D/YYYY, got {dob!r}")
        if role == "contact":
            rels = data.get("student_relationships") or []
            if not isinstance(rels, list):
                raise RosterError(f"{where}: roles.contact.student_relationships: expected a list")
            for n, rel in enumerate(rels):
                rel_field = _Fields(
                    rel if isinstance(rel, dict) else {},
                    where,
                    f"roles.contact.student_relationships[{n}].",
                    unknown_users=unknown,
                )
                rel_field.ref("student", "users", lookup, required=True, role="student")


class _Fields:
    """Type checks on one object, raising ``RosterError`` with the dotted field name."""

    def __init__(
        self, obj: Obj, where: str, prefix: str = "", unknown_users: list[str] | None = None
    ) -> None:
        self.obj, self.where, self.prefix = obj, where, prefix
        self.unknown_users = unknown_users

    def fail(self, name: str, problem: str) -> None:
        raise RosterError(f"{self.where}: {self.prefix}{name}: {problem}")

    def strings(self, *names: str) -> None:
        for name in names:
            value = self.obj.get(name)
            if value is not None and not isinstance(value, str):
                self.fail(name, f"expected a string, got {type(value).__name__} {value!r}")

    def string_list(self, name: str) -> list[str]:
        value = self.obj.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, f"expected a list of strings, got {value!r}")
        return list(value)

    def enum(self, name: str, allowed: set[str]) -> None:
        value = self.obj.get(name)
        if value is not None and value not in allowed:
            self.fail(name, f"{value!r} is not one of Clever's values")

    def ref(self, name: str, kind: str, lookup: Lookup, *, required: bool = False, role: str = "") -> None:
        self.strings(name)
        value = self.obj.get(name)
        if not value:
            if required:
                self.fail(name, "missing (required)")
            return
        self._target(name, value, kind, lookup, role)

    def ref_list(self, name: str, lookup: Lookup, *, kind: str = "users", role: str = "") -> None:
        for value in self.string_list(name):
            self._target(name, value, kind, lookup, role)

    def _target(self, name: str, value: str, kind: str, lookup: Lookup, role: str) -> None:
        target: Any = lookup(kind, value)
        if target is None and kind in ("users", "schools") and self.unknown_users is not None:
            self.unknown_users.append(
                f"{self.where}: {self.prefix}{name}: {kind[:-1]} {value} is not in the file (served as it is)"
            )
            return
        if target is None:
            self.fail(name, f"unknown {kind[:-1]} {value!r}")
        if role and not (target.get("roles") or {}).get(role):
            self.fail(name, f"user {value!r} has no {role} role")


def _check_id(obj: Obj, where: str) -> None:
    value = obj.get("id")
    if not isinstance(value, str) or not OBJECT_ID.match(value):
        raise RosterError(f"{where}: id: expected a Clever id (24 lowercase hex digits), got {value!r}")
