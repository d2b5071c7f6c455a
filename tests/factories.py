"""Records for tests: plain functions with defaults, every id a fresh 24-hex Clever-style id.

Pass only what a test is about: ``make_student(first_name="Jess", last_name="Datos")``. Ids are
made from one counter, so they are distinct and increase in creation order (as Clever's do).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from model.records import District, Role, School, Section, StudentRelationship, User
from model.state import Account

DISTRICT_ID = "5f0000000000000000d15701"
_counter = itertools.count(1)


def new_id(prefix: str = "5f") -> str:
    """A fresh 24-hex id, larger than every one made before."""
    return f"{prefix}{next(_counter):022x}"


def make_district(*, clever_id: str = DISTRICT_ID, name: str = "Sandbox District") -> District:
    return District(clever_id=clever_id, name=name)


def make_school(
    name: str = "Lincoln Elementary", *, clever_id: str = "", district: str = DISTRICT_ID, **fields: str
) -> School:
    return School(clever_id=clever_id or new_id(), district=district, name=name, **fields)


def make_user(
    *,
    roles: Iterable[Role],
    clever_id: str = "",
    district: str = DISTRICT_ID,
    first_name: str = "Jess",
    last_name: str = "Datos",
    schools: Iterable[str] = (),
    relationships: Iterable[StudentRelationship] = (),
    **fields: Any,
) -> User:
    """A Clever person holding ``roles``; other ``User`` fields by keyword."""
    return User(
        clever_id=clever_id or new_id(),
        district=district,
        first_name=first_name,
        last_name=last_name,
        roles=frozenset(roles),
        schools=tuple(schools),
        student_relationships=tuple(relationships),
        **fields,
    )


def make_student(
    first_name: str = "Jess", last_name: str = "Datos", *, school: str = "", **fields: Any
) -> User:
    schools = fields.pop("schools", (school,) if school else (new_id(),))
    return make_user(
        roles=(Role.STUDENT,),
        first_name=first_name,
        last_name=last_name,
        schools=schools,
        **fields,
    )


def make_teacher(
    first_name: str = "Maeve", last_name: str = "O'Brien", *, school: str = "", **fields: Any
) -> User:
    schools = fields.pop("schools", (school,) if school else (new_id(),))
    return make_user(
        roles=(Role.TEACHER,),
        first_name=first_name,
        last_name=last_name,
        schools=schools,
        **fields,
    )


def make_staff(
    first_name: str = "Sam", last_name: str = "Office", *, school: str = "", **fields: Any
) -> User:
    schools = fields.pop("schools", (school,) if school else (new_id(),))
    return make_user(
        roles=(Role.STAFF,),
        first_name=first_name,
        last_name=last_name,
        schools=schools,
        **fields,
    )


def make_contact(
    full_name: str = "Anne Marie Smith",
    *,
    students: Iterable[str] = (),
    relationship: str = "Parent",
    type: str = "Parent/Guardian",
    email: str = "anne.smith@example.org",
    **fields: Any,
) -> User:
    """A contact as Clever sends one: the whole name in ``last_name``, one relationship per student."""
    relationships = fields.pop(
        "relationships",
        tuple(StudentRelationship(student=s, relationship=relationship, type=type) for s in students),
    )
    return make_user(
        roles=(Role.CONTACT,),
        first_name=str(fields.pop("first_name", "")),
        last_name=full_name,
        email=email,
        relationships=relationships,
        **fields,
    )


def make_section(
    name: str = "Math 7",
    *,
    school: str = "",
    clever_id: str = "",
    district: str = DISTRICT_ID,
    teachers: Iterable[str] = (),
    students: Iterable[str] = (),
    **fields: str,
) -> Section:
    teachers = tuple(teachers)
    return Section(
        clever_id=clever_id or new_id(),
        district=district,
        school=school or new_id(),
        name=name,
        teacher=teachers[0] if teachers else "",
        teachers=teachers,
        students=tuple(students),
        **fields,
    )


def make_account(
    first_name: str = "Jess",
    last_name: str = "Datos",
    *,
    keycloak_id: str = "",
    username: str = "",
    **fields: Any,
) -> Account:
    """An existing realm account for the name match, checked for privilege (``vetted``); ids are
    uuid-like, like Keycloak's."""
    fields.setdefault("vetted", True)
    keycloak_id = keycloak_id or f"00000000-0000-4000-8000-{next(_counter):012x}"
    return Account(
        keycloak_id=keycloak_id,
        username=username or f"{first_name}.{last_name}".lower().replace(" ", ""),
        first_name=first_name,
        last_name=last_name,
        **fields,
    )
