"""Clever JSON -> frozen records: the only place that knows the shape of Clever's payloads.

Pure functions, no I/O. Every parser takes the bare Clever object (what sits under ``data`` in an
envelope item) and returns a record from ``model.records``, or raises ``RecordError`` naming
the kind and the Clever id. ``""``, ``null`` and a missing key are the same thing everywhere here.

What counts as a bad record: an item that is not an object, has no ``id``, or carries a field of
the wrong JSON type (``roles`` that is a list, ``schools`` that is a string, ...). Missing optional
data (no email, no name, no school) is not an error: policy code decides what to do with it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from model.base import RecordError
from model.records import (
    Course,
    District,
    Event,
    Me,
    Role,
    School,
    Section,
    StudentRelationship,
    Term,
    User,
)

RecordType = District | School | User | Section | Term | Course

_ROLES = {role.value: role for role in Role}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Roles searched, in this order, for the fields several roles carry (sis_id, title, ...).
_ROLE_ORDER = (Role.STUDENT, Role.TEACHER, Role.STAFF, Role.DISTRICT_ADMIN, Role.CONTACT)
# v1/v2 event collections that v3 folds into ``users`` (the v1.2 sample in clever-samples uses them).
_LEGACY_USER_TYPES = {
    "students": Role.STUDENT,
    "teachers": Role.TEACHER,
    "contacts": Role.CONTACT,
    "schooladmins": Role.STAFF,
    "school_admins": Role.STAFF,
    "districtadmins": Role.DISTRICT_ADMIN,
    "district_admins": Role.DISTRICT_ADMIN,
}


class _Bad(ValueError):
    """A field of the wrong type; turned into a RecordError with the kind and id attached."""


def text(value: Any) -> str:
    """A scalar field as a string; ``None`` and ``""`` both become ``""``."""
    if type(value) is str:  # the common case first: this runs some 15 times per user
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise _Bad(f"expected a string, got {type(value).__name__}")


def obj(value: Any) -> Mapping[str, Any]:
    """A nested object; ``None`` and ``""`` both become ``{}``."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return value
    raise _Bad(f"expected an object, got {type(value).__name__}")


def ids(value: Any) -> tuple[str, ...]:
    """A list of Clever ids; ``None``, ``""`` and empty entries drop out, order is kept.

    Ids are interned (so are records' own ids): a class lists its ~25 students, a person their
    schools, and one string per id instead of one per mention saves some MB a district of 10,000.
    """
    if value is None or value == "":
        return ()
    if not isinstance(value, list):
        raise _Bad(f"expected a list, got {type(value).__name__}")
    return tuple(dict.fromkeys(sys.intern(t) for t in (text(v) for v in value) if t))


def _date(value: Any) -> str:
    """Clever does not normalise term dates (``2015-08-25``, ``...T00:00:00.000Z``, ``... 00:00:00``)."""
    raw = text(value)
    match = _DATE.match(raw)
    return match.group(0) if match else raw


def _clever_id(data: Any, kind: str) -> str:
    if not isinstance(data, Mapping):
        raise RecordError(f"{kind}: item is not an object", kind=kind)
    try:
        clever_id = text(data.get("id"))
    except _Bad as exc:
        raise RecordError(f"{kind}: bad id: {exc}", kind=kind) from exc
    if not clever_id:
        raise RecordError(f"{kind}: item without an id", kind=kind)
    return sys.intern(clever_id)


def _guarded(kind: str, build: Callable[[Mapping[str, Any], str], Any]) -> Callable[[Any], Any]:
    def parse(data: Any) -> Any:
        clever_id = _clever_id(data, kind)
        try:
            return build(data, clever_id)
        except (_Bad, TypeError, ValueError) as exc:
            raise RecordError(f"{kind} {clever_id}: {exc}", kind=kind, clever_id=clever_id) from exc

    return parse


def _district(data: Mapping[str, Any], clever_id: str) -> District:
    methods = data.get("login_methods")
    return District(
        clever_id=clever_id,
        name=text(data.get("name")),
        login_methods=tuple(text(m) for m in methods) if isinstance(methods, list) else ids(methods),
    )


def _school(data: Mapping[str, Any], clever_id: str) -> School:
    return School(
        clever_id=clever_id,
        district=text(data.get("district")),
        name=text(data.get("name")),
        sis_id=text(data.get("sis_id")),
        school_number=text(data.get("school_number")),
        low_grade=text(data.get("low_grade")),
        high_grade=text(data.get("high_grade")),
    )


# Memory: values shared by many records are kept once (the JSON decoder makes a new string per
# occurrence): the district id, grades, years, relationship words, and the sets of roles.
_ROLE_SETS: dict[frozenset[Role], frozenset[Role]] = {}


def _few(value: str) -> str:
    """A value with few distinct values across a district (a grade, the district id), interned."""
    return sys.intern(value)


def _user(data: Mapping[str, Any], clever_id: str) -> User:
    raw_roles = obj(data.get("roles"))
    roles = {_ROLES[k]: obj(v) for k, v in raw_roles.items() if k in _ROLES and v is not None}
    ordered = [roles[r] for r in _ROLE_ORDER if r in roles]

    def first(key: str, *within: Role) -> str:
        for role in within or _ROLE_ORDER:
            if role in roles and (value := text(roles[role].get(key))):
                return value
        return ""

    def username() -> str:
        for role_data in ordered:
            if value := text(obj(role_data.get("credentials")).get("district_username")):
                return value
        return ""

    schools: list[str] = []
    for role_data in ordered:  # the primary ``school`` of each role first, then the rest
        schools.extend(ids([role_data.get("school")]))
    for role_data in ordered:
        schools.extend(ids(role_data.get("schools")))
    name = obj(data.get("name"))
    contact = roles.get(Role.CONTACT, {})
    relationships = contact.get("student_relationships")
    sis_id = first("sis_id")
    student_number = first("student_number", Role.STUDENT)
    if student_number == sis_id:  # districts often give both the same value: one object
        student_number = sis_id
    return User(
        clever_id=clever_id,
        district=_few(text(data.get("district"))),
        first_name=text(name.get("first")),
        middle_name=text(name.get("middle")),
        last_name=text(name.get("last")),
        email=text(data.get("email")) or first("email"),
        roles=_ROLE_SETS.setdefault(frozenset(roles), frozenset(roles)),
        schools=tuple(dict.fromkeys(schools)),
        sis_id=sis_id,
        district_username=username(),
        student_number=student_number,
        teacher_number=first("teacher_number", Role.TEACHER),
        staff_id=first("staff_id", Role.STAFF),
        state_id=first("state_id", Role.STUDENT, Role.TEACHER),
        grade=_few(first("grade", Role.STUDENT)),
        graduation_year=_few(first("graduation_year", Role.STUDENT)),
        title=_few(first("title", Role.TEACHER, Role.STAFF, Role.DISTRICT_ADMIN)),
        phone=text(contact.get("phone")),
        phone_type=_few(text(contact.get("phone_type"))),
        student_relationships=tuple(_relationship(r) for r in _items(relationships) if r),
        # Only the preferred name is read of v3.1's new student fields (never the sensitive ones).
        preferred_first_name=text(obj(roles.get(Role.STUDENT, {}).get("preferred_name")).get("first")),
    )


def _items(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise _Bad(f"expected a list, got {type(value).__name__}")
    return value


def _relationship(value: Any) -> StudentRelationship:
    line = obj(value)
    student = text(line.get("student"))
    if not student:
        raise _Bad("a student_relationships line without a student")
    return StudentRelationship(
        student=sys.intern(student),
        relationship=_few(text(line.get("relationship"))),
        type=_few(text(line.get("type"))),
    )


def _section(data: Mapping[str, Any], clever_id: str) -> Section:
    teacher = sys.intern(text(data.get("teacher")))
    teachers = ids(data.get("teachers"))
    if teacher and teacher not in teachers:  # the primary teacher is one of the teachers
        teachers = (teacher, *teachers)
    return Section(
        clever_id=clever_id,
        district=_few(text(data.get("district"))),
        school=sys.intern(text(data.get("school"))),
        name=text(data.get("name")),
        sis_id=text(data.get("sis_id")),
        section_number=text(data.get("section_number")),
        period=_few(text(data.get("period"))),
        grade=_few(text(data.get("grade"))),
        subject=_few(text(data.get("subject"))),
        course=sys.intern(text(data.get("course"))),
        term_id=sys.intern(text(data.get("term_id"))),
        teacher=teacher,
        teachers=teachers,
        students=ids(data.get("students")),
    )


def _term(data: Mapping[str, Any], clever_id: str) -> Term:
    return Term(
        clever_id=clever_id,
        district=text(data.get("district")),
        name=text(data.get("name")),
        start_date=_date(data.get("start_date")),
        end_date=_date(data.get("end_date")),
    )


def _course(data: Mapping[str, Any], clever_id: str) -> Course:
    return Course(
        clever_id=clever_id,
        district=text(data.get("district")),
        name=text(data.get("name")),
        number=text(data.get("number")),
    )


parse_district: Callable[[Any], District] = _guarded("districts", _district)
parse_school: Callable[[Any], School] = _guarded("schools", _school)
parse_user: Callable[[Any], User] = _guarded("users", _user)
parse_section: Callable[[Any], Section] = _guarded("sections", _section)
parse_term: Callable[[Any], Term] = _guarded("terms", _term)
parse_course: Callable[[Any], Course] = _guarded("courses", _course)

PARSERS: dict[str, Callable[[Any], RecordType]] = {
    "districts": parse_district,
    "schools": parse_school,
    "users": parse_user,
    "sections": parse_section,
    "terms": parse_term,
    "courses": parse_course,
}


def parse(kind: str, data: Any) -> RecordType:
    """Parse one bare Clever object of collection ``kind`` (``users``, ``sections``, ...)."""
    return PARSERS[kind](data)


def _legacy_user(role: Role, data: Mapping[str, Any]) -> dict[str, Any]:
    """A v1/v2 flat person (``students.*`` events) reshaped as a v3 user with one role."""
    return {
        "id": data.get("id"),
        "district": data.get("district"),
        "name": data.get("name"),
        "email": data.get("email"),
        "last_modified": data.get("last_modified"),
        "roles": {role.value: data},
    }


def _as_before(after: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """The object before an update: ``previous_attributes`` (the changed fields' old values,
    nested objects down to the changed leaves, ``None`` for a field that was absent) put back."""
    before = dict(after)
    for key, old in previous.items():
        if old is None:
            before.pop(key, None)
        elif isinstance(old, Mapping) and isinstance(before.get(key), Mapping):
            before[key] = _as_before(before[key], old)
        else:
            before[key] = old
    return before


def parse_event(data: Any) -> Event:
    """One event: its record parsed by collection (``resources.*`` carry no record)."""
    event_id = _clever_id(data, "events")
    try:
        event_type = text(data.get("type"))
        collection = event_type.partition(".")[0]
        payload = obj(data.get("data"))
        # The spec puts previous_attributes beside ``data``; recorded payloads put it inside.
        previous = obj(payload.get("previous_attributes")) or obj(data.get("previous_attributes"))
        raw = payload.get("object")
        record: RecordType | None = None
        if collection in _LEGACY_USER_TYPES:
            record = parse_user(_legacy_user(_LEGACY_USER_TYPES[collection], obj(raw)))
        elif collection in PARSERS:
            record = PARSERS[collection](raw)
        elif collection != "resources":
            raise _Bad(f"unknown event type {event_type!r}")
        before: Section | User | None = None
        if isinstance(record, Section) and event_type.endswith(".updated") and isinstance(raw, Mapping):
            before = _section(_as_before(raw, previous), record.clever_id)
        elif isinstance(record, User) and event_type == "users.updated" and isinstance(raw, Mapping):
            before = parse_user(_as_before(raw, previous))
        return Event(
            event_id=event_id,
            type=event_type,
            created=text(data.get("created")),
            record=record,
            previous_attributes=tuple(sorted(previous)),
            previous=before,
        )
    except (_Bad, RecordError) as exc:
        raise RecordError(f"events {event_id}: {exc}", kind="events", clever_id=event_id) from exc


def parse_me(body: Any) -> Me:
    """``GET /v3.0/me`` with a user token: who signed in, in which district, as what."""
    try:
        data = obj(obj(body).get("data"))
        user_id, district = text(data.get("id")), text(data.get("district"))
        kind = text(data.get("type")) or text(obj(body).get("type"))
    except _Bad as exc:
        raise RecordError(f"me: {exc}", kind="me") from exc
    if not user_id:
        raise RecordError("me: no user id in the answer", kind="me")
    return Me(user_id=user_id, district=district, type=kind, authorized_by=text(data.get("authorized_by")))


def parse_userinfo(body: Any) -> Me:
    """``GET /userinfo`` (OIDC): the same facts as ``/me`` plus the role of this login."""
    try:
        data = obj(body)
        user_id = text(data.get("sub")) or text(data.get("multi_role_user_id"))
        district = text(data.get("district")) or text(data.get("district_id"))
        me = Me(
            user_id=user_id,
            district=district,
            type=text(data.get("user_type")),
            authorized_by=text(data.get("authorized_by")),
        )
    except _Bad as exc:
        raise RecordError(f"userinfo: {exc}", kind="userinfo") from exc
    if not me.user_id:
        raise RecordError("userinfo: no sub", kind="userinfo")
    return me


@dataclass(frozen=True, slots=True)
class DistrictToken:
    """One district-app token from ``GET /oauth/tokens?owner_type=district``."""

    district: str
    access_token: str = field(repr=False)
    scopes: tuple[str, ...] = ()


def parse_district_tokens(body: Any) -> list[DistrictToken]:
    """The token list; entries owned by something other than a district are left out."""
    tokens = []
    for item in _items(obj(body).get("data")):
        entry = obj(item)
        owner = obj(entry.get("owner"))
        if text(owner.get("type")) not in ("", "district"):
            continue
        district, token = text(owner.get("id")), text(entry.get("access_token"))
        if district and token:
            tokens.append(
                DistrictToken(district=district, access_token=token, scopes=ids(entry.get("scopes")))
            )
    return tokens
