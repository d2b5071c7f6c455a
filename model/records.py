"""Frozen records after Clever's Data API v3.0: what the rest of the sidecar knows of Clever.

Clever JSON never leaves ``connectors/clever.py``; its parsers build these. Clever sends ``""``,
``null`` or nothing for a field it does not have; all three become ``""`` (or an empty tuple)
here, so policy code never has to ask which one it got.

Only the fields the sidecar uses are kept: a district of a million students must fit in memory
as these records, so no ``ext``, locations or demographic fields (``dob``, ``race``, ...) are held,
nor a user's ``last_modified`` (nothing reads it; 3.9 MB at 50,000 students).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """A key under a Clever user's ``roles``; also the value of the ``role=`` filter."""

    STUDENT = "student"
    TEACHER = "teacher"
    STAFF = "staff"
    DISTRICT_ADMIN = "district_admin"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class District:
    clever_id: str
    name: str
    login_methods: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class School:
    clever_id: str
    district: str
    name: str
    sis_id: str = ""
    school_number: str = ""
    low_grade: str = ""
    high_grade: str = ""


@dataclass(frozen=True, slots=True)
class StudentRelationship:
    """One line of a contact's ``student_relationships``."""

    student: str
    relationship: str = ""
    type: str = ""


@dataclass(frozen=True, slots=True)
class User:
    """One Clever person; ``roles`` holds the roles shared with the app (possibly several)."""

    clever_id: str
    district: str
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    email: str = ""
    roles: frozenset[Role] = frozenset()
    # The person's schools (student/teacher/staff), primary school first when Clever names one.
    schools: tuple[str, ...] = ()
    sis_id: str = ""
    district_username: str = ""
    student_number: str = ""
    teacher_number: str = ""
    staff_id: str = ""
    state_id: str = ""
    grade: str = ""
    graduation_year: str = ""
    title: str = ""
    phone: str = ""
    phone_type: str = ""
    student_relationships: tuple[StudentRelationship, ...] = ()
    # Data API v3.1: the student's preferred first name (``roles.student.preferred_name.first``).
    # v3.1's sensitive student fields (iep_status, frl_status, disability, section_504_status,
    # gifted_status, home_language, home_language_code) have no field here: never read.
    preferred_first_name: str = ""

    @property
    def primary_school(self) -> str:
        return self.schools[0] if self.schools else ""

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class Section:
    clever_id: str
    district: str
    school: str
    name: str
    sis_id: str = ""
    section_number: str = ""
    period: str = ""
    grade: str = ""
    subject: str = ""
    course: str = ""
    term_id: str = ""
    teacher: str = ""
    teachers: tuple[str, ...] = ()
    students: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Term:
    clever_id: str
    district: str
    name: str = ""
    start_date: str = ""
    end_date: str = ""


@dataclass(frozen=True, slots=True)
class Course:
    clever_id: str
    district: str
    name: str = ""
    number: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of ``/v3.0/events``: ``type`` is ``<collection>.<created|updated|deleted>``."""

    event_id: str
    type: str
    created: str
    record: District | School | User | Section | Term | Course | None
    previous_attributes: tuple[str, ...] = ()
    # For ``sections.updated`` and ``users.updated``: the record as it was before
    # (``previous_attributes`` merged back): a contact's former children are read again too.
    previous: Section | User | None = None

    @property
    def collection(self) -> str:
        return self.type.partition(".")[0]

    @property
    def action(self) -> str:
        return self.type.partition(".")[2]


@dataclass(frozen=True, slots=True)
class Me:
    """Who signed in with Clever: ``/v3.0/me`` (``type`` is ``"user"`` in v3) or ``/userinfo``
    (``type`` is the login's role: ``student``, ``teacher``, ``staff``, ``district admin``)."""

    user_id: str
    district: str
    type: str = ""
    authorized_by: str = ""
