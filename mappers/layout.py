"""Where Clever data lands in Keycloak: attribute names, role names, the group tree.

Shared vocabulary of the broker (which declares these attributes in the realm's User Profile,
because Keycloak 24+ silently drops undeclared ones) and the sync (which writes them). The plain
data the connectors need as well (``IDP_ALIAS``, ``REALM_ROLES``, ``ldap_rdn``) lives in
``model.state`` and ``model.text``.
"""

from __future__ import annotations

from collections.abc import Iterable

from model.records import Role, User
from model.state import CREATED_MARK

# User attributes the sync writes and the broker declares (admin-only, in the "Clever" group).
CLEVER_ATTRIBUTES: tuple[str, ...] = (
    "clever_id",
    "clever_role",
    "clever_roles",
    "clever_district",
    "clever_school_ids",
    "clever_sis_id",
    "clever_student_number",
    "clever_teacher_number",
    "clever_staff_id",
    "clever_state_id",
    "clever_grade",
    "clever_graduation_year",
    "clever_title",
    "clever_phone",
    "clever_phone_type",
    "clever_relationships",
    "clever_removed_at",
    "clever_unwritable",
    "clever_first_name",
    "clever_last_name",
    "clever_legal_first_name",
    "clever_email",  # Clever's unverified email, from a first login (never the Keycloak email)
)
# Declared beside them, but written only when an account is created (never in a person's wanted
# attributes, so a sync never rewrites or removes it): ``model.state.CREATED_MARK``.
CLEVER_MARKS: tuple[str, ...] = (CREATED_MARK,)

# The id_token's ``user_type`` claim values (Clever writes "district admin" with a space).
USER_TYPE_ROLES: dict[str, str] = {
    "student": "clever-student",
    "teacher": "clever-teacher",
    "staff": "clever-staff",
    "district admin": "clever-district-admin",
    "district_admin": "clever-district-admin",
    "contact": "clever-contact",
}


# --- The group tree ------------------------------------------------------------------------------
#
#   /Clever/<School>/Students | Teachers | Staff | Parents
#   /Clever/<School>/Classes/<class>
#
# School and class groups carry their Clever ids as group attributes (the pipeline writes them),
# so a rename in Clever renames the group instead of making a new one. Names are passed through
# ``group_name_safe`` first: it removes ``/`` (Keycloak's path separator), so Keycloak's own
# escaping of ``/`` inside names (``~/``, Keycloak 23+) never comes into play, and a path is
# simply the names joined by ``/``. To look a path up (``GET /group-by-path{path}``) URL-quote it
# (``quote(path, safe="/")``): names may hold ``#``, ``;``, ``+`` or spaces, and python-keycloak's
# ``get_group_by_path`` does not quote.

ROOT_GROUP = "Clever"
CLASSES_GROUP = "Classes"

# Clever role → the role group under each school. District admins have no school group: Clever
# gives them no schools; they are known by their realm role and ``clever_role`` only.
ROLE_GROUPS: dict[Role, str] = {
    Role.STUDENT: "Students",
    Role.TEACHER: "Teachers",
    Role.STAFF: "Staff",
    Role.CONTACT: "Parents",
}


def school_keys(school_id: str) -> tuple[str, ...]:
    """The sync keys of a school's group and the groups below it: ``school:<id>``, its role groups
    (``school:<id>:students`` ...) and ``school:<id>:classes``."""
    key = f"school:{school_id}"
    return (key, *(f"{key}:{child.lower()}" for child in (*ROLE_GROUPS.values(), CLASSES_GROUP)))


# The primary role shown in ``clever_role`` when a person holds several: the most privileged
# first, and teacher before staff because a teacher's classes are what the sync builds.
ROLE_PRIORITY: tuple[Role, ...] = (
    Role.DISTRICT_ADMIN,
    Role.TEACHER,
    Role.STAFF,
    Role.STUDENT,
    Role.CONTACT,
)


def primary_role(roles: Iterable[Role]) -> Role | None:
    """The role shown in ``clever_role``: first of ``ROLE_PRIORITY`` the person holds."""
    held = set(roles)
    return next((role for role in ROLE_PRIORITY if role in held), None)


def sorted_roles(roles: Iterable[Role]) -> list[Role]:
    """``roles`` in ``ROLE_PRIORITY`` order."""
    held = set(roles)
    return [role for role in ROLE_PRIORITY if role in held]


RELATIONSHIP_SEPARATOR = "|"


def relationship_value(other_clever_id: str, relationship: str, type_: str) -> str:
    """One ``clever_relationships`` value: ``<other person's Clever id>|<relationship>|<type>``.

    ``|`` separates because Clever's types contain ``/`` ("Parent/Guardian"). On a parent the
    other person is the student; on a student, the contact.
    """
    return RELATIONSHIP_SEPARATOR.join((other_clever_id, relationship, type_))


def user_attributes(
    user: User,
    *,
    relationships: Iterable[tuple[str, str, str]] = (),
    school_ids: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """The ``clever_*`` attributes of ``user``; only non-empty values, keys in ``CLEVER_ATTRIBUTES``.

    ``relationships`` are ``(other clever id, relationship, type)`` triples (see
    ``mappers.parents``); ``school_ids`` replaces ``user.schools`` (a parent's schools are
    those of their students). ``clever_removed_at`` and ``clever_unwritable`` are the
    pipeline's to write.
    """
    schools = list(user.schools if school_ids is None else school_ids)
    role = primary_role(user.roles)
    values: dict[str, list[str]] = {
        "clever_id": [user.clever_id],
        "clever_role": [role.value] if role else [],
        "clever_roles": [r.value for r in sorted_roles(user.roles)],
        "clever_district": [user.district],
        "clever_school_ids": list(dict.fromkeys(schools)),
        "clever_sis_id": [user.sis_id],
        "clever_student_number": [user.student_number],
        "clever_teacher_number": [user.teacher_number],
        "clever_staff_id": [user.staff_id],
        "clever_state_id": [user.state_id],
        "clever_grade": [user.grade],
        "clever_graduation_year": [user.graduation_year],
        "clever_title": [user.title],
        "clever_phone": [user.phone],
        "clever_phone_type": [user.phone_type],
        "clever_relationships": [relationship_value(*r) for r in relationships],
    }
    return {
        name: kept
        for name, found in values.items()
        if name in CLEVER_ATTRIBUTES and (kept := [v for v in found if v])
    }
