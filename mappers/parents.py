"""Sync Parent Data: Clever contacts → parent accounts, relationships recorded on both sides.

Settings: ``options.sync_parent_data`` (default off; off, no contact is touched). Example::

    plan = parents_of(contacts, {"5f...s1": ("5f...school",)})
    plan.parents   # (Parent(clever_id="5f...c1", first_name="Anne Marie", last_name="Smith", ...),)
    plan.skipped   # (Skipped("5f...c2", "no email"),)
    relationships_of_student(plan.parents)
    # {"5f...s1": (("5f...c1", "Parent", "Parent/Guardian"),)}

A contact becomes a parent when, in this order:

1. at least one of their ``student_relationships`` names a student in scope (else skipped with
   "no student in scope"); only the in-scope relationships are kept, and the parent's schools are
   those students' schools;
2. they have a name (else "no name");
3. they have an email with an ``@`` (else "no email" / "invalid email"): a parent account is
   reached only through that address.

Names: Clever often stores a contact's whole name in ``name.last``. When ``first_name`` is empty,
``split_full_name`` splits ``last_name``: "Anne Marie Smith" → ("Anne Marie", "Smith"); a
surname particle run stays with the surname ("Maria de la Cruz" → ("Maria", "de la Cruz")); a
generational suffix stays too ("John Smith Jr." → ("John", "Smith Jr.")); "Smith, Anne" →
("Anne", "Smith"); a single word is the last name only ("Smith" → ("", "Smith")).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from model.records import Role, StudentRelationship, User

_PARTICLES = frozenset(
    {"de", "del", "della", "der", "di", "da", "dos", "das", "du", "la", "le", "van", "von", "ten", "ter"}
    | {"st", "st.", "bin", "ibn", "al", "el", "y"}
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


@dataclass(frozen=True, slots=True)
class Parent:
    clever_id: str
    first_name: str
    last_name: str
    email: str
    phone: str = ""
    phone_type: str = ""
    relationships: tuple[StudentRelationship, ...] = ()  # in-scope students only
    school_ids: tuple[str, ...] = ()  # those students' schools, sorted

    @property
    def student_ids(self) -> tuple[str, ...]:
        return tuple(r.student for r in self.relationships)


@dataclass(frozen=True, slots=True)
class Skipped:
    clever_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParentPlan:
    parents: tuple[Parent, ...]  # in Clever-id order
    skipped: tuple[Skipped, ...]  # in Clever-id order


def split_full_name(full_name: str) -> tuple[str, str]:
    """``(first, last)`` of a whole name held in one field (rules in the module doc)."""
    if "," in full_name:
        last, _, first = full_name.partition(",")
        return " ".join(first.split()), " ".join(last.split())
    words = full_name.split()
    if len(words) <= 1:
        return "", " ".join(words)
    start = len(words) - 1
    if words[start].casefold() in _SUFFIXES and start > 1:
        start -= 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def contact_name(contact: User) -> tuple[str, str]:
    """``(first, last)`` of a contact: Clever's own fields, or ``last_name`` split when first is empty."""
    first, last = " ".join(contact.first_name.split()), " ".join(contact.last_name.split())
    if first or not last:
        return first, last
    return split_full_name(last)


def _email_problem(email: str) -> str:
    if not email.strip():
        return "no email"
    local, at, domain = email.strip().rpartition("@")
    return "" if at and local and domain and " " not in email.strip() else "invalid email"


def parents_of(contacts: Iterable[User], students_in_scope: Mapping[str, tuple[str, ...]]) -> ParentPlan:
    """The parents to sync and the contacts skipped, with reasons (rules in the module doc)."""
    parents: list[Parent] = []
    skipped: list[Skipped] = []
    for clever_id, contact in sorted({c.clever_id: c for c in contacts}.items()):
        relationships = tuple(
            dict.fromkeys(r for r in contact.student_relationships if r.student in students_in_scope)
        )
        first, last = contact_name(contact)
        email = contact.email.strip()
        if not relationships:
            skipped.append(Skipped(clever_id, "no student in scope"))
        elif not (first or last):
            skipped.append(Skipped(clever_id, "no name"))
        elif problem := _email_problem(email):
            skipped.append(Skipped(clever_id, problem))
        else:
            schools = sorted({s for r in relationships for s in students_in_scope[r.student]})
            parents.append(
                Parent(
                    clever_id=clever_id,
                    first_name=first,
                    last_name=last,
                    email=email,
                    phone=contact.phone,
                    phone_type=contact.phone_type,
                    relationships=relationships,
                    school_ids=tuple(schools),
                )
            )
    return ParentPlan(parents=tuple(parents), skipped=tuple(skipped))


def relationships_of_parent(parent: Parent) -> tuple[tuple[str, str, str], ...]:
    """``(student id, relationship, type)`` of a parent, for ``layout.user_attributes``."""
    return tuple((r.student, r.relationship, r.type) for r in parent.relationships)


def relationships_of_student(parents: Iterable[Parent]) -> Mapping[str, tuple[tuple[str, str, str], ...]]:
    """Student id → ``(parent id, relationship, type)``, parents in Clever-id order: the other side."""
    found: defaultdict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for parent in sorted(parents, key=lambda p: p.clever_id):
        for r in parent.relationships:
            found[r.student].append((parent.clever_id, r.relationship, r.type))
    return {student: tuple(found[student]) for student in sorted(found)}


# A parent to sync: the contact, their schools, relationships, first and last name, email.
ParentSpec = tuple[User, tuple[str, ...], tuple[tuple[str, str, str], ...], str, str, str]
Relationships = Mapping[str, tuple[tuple[str, str, str], ...]]


def parent_specs(
    people: Iterable[User], contacts: Iterable[User], school_names: Mapping[str, str]
) -> tuple[Relationships, list[ParentSpec], tuple[Skipped, ...]]:
    """Sync Parent Data over a sorted roster (``mappers.people``): each student's relationships, the
    parents to sync, the contacts skipped."""
    students = {
        p.clever_id: tuple(s for s in p.schools if s in school_names) for p in people if p.has(Role.STUDENT)
    }
    contacts = list(contacts)
    plan = parents_of(contacts, students)
    by_id = {c.clever_id: c for c in contacts}
    specs: list[ParentSpec] = [
        (
            by_id[parent.clever_id],
            parent.school_ids,
            relationships_of_parent(parent),
            parent.first_name,
            parent.last_name,
            parent.email,
        )
        for parent in plan.parents
    ]
    return relationships_of_student(plan.parents), specs, plan.skipped
