"""Where Clever data lands in Keycloak: attribute names, role names, the group tree.

Shared vocabulary of the broker (which declares these attributes in the realm's User Profile,
because Keycloak 24+ silently drops undeclared ones) and the sync (which writes them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ldap3.utils.dn import escape_rdn

from connectors.records import Role, User

IDP_ALIAS = "clever"

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
    "clever_email",  # Clever's unverified email, from a first login (never the Keycloak email)
)

# Clever role → realm role given to people of that role.
REALM_ROLES: dict[Role, str] = {
    Role.STUDENT: "clever-student",
    Role.TEACHER: "clever-teacher",
    Role.STAFF: "clever-staff",
    Role.DISTRICT_ADMIN: "clever-district-admin",
    Role.CONTACT: "clever-contact",
}

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
GROUP_PATH_SEPARATOR = "/"

# Clever role → the role group under each school. District admins have no school group: Clever
# gives them no schools; they are known by their realm role and ``clever_role`` only.
ROLE_GROUPS: dict[Role, str] = {
    Role.STUDENT: "Students",
    Role.TEACHER: "Teachers",
    Role.STAFF: "Staff",
    Role.CONTACT: "Parents",
}

# The primary role shown in ``clever_role`` when a person holds several: the most privileged
# first, and teacher before staff because a teacher's classes are what the sync builds.
ROLE_PRIORITY: tuple[Role, ...] = (
    Role.DISTRICT_ADMIN,
    Role.TEACHER,
    Role.STAFF,
    Role.STUDENT,
    Role.CONTACT,
)

# Keycloak's group NAME column holds 255 characters; keep a margin for characters stored as two
# UTF-16 units (emoji) and for a disambiguating suffix.
MAX_GROUP_NAME = 200

# ``/`` is Keycloak's path separator: replaced by U+2215 DIVISION SLASH, which reads the same.
SLASH_REPLACEMENT = "\u2215"
# A name ending in ``~`` breaks Keycloak's path parser (``~/`` is its escape for ``/``):
# a trailing ``~`` becomes U+223C TILDE OPERATOR.
TILDE_REPLACEMENT = "\u223c"


def group_name_safe(text: str, fallback: str = "") -> str:
    """``text`` made a valid Keycloak group name and LDAP ``cn`` value; ``fallback`` when empty.

    NFC-normalized; ``/`` → ``∕``; control and line-separator characters → space; whitespace
    trimmed and collapsed; a trailing ``~`` → ``∼``; capped at ``MAX_GROUP_NAME`` characters.
    A leading ``#``, commas, ``+``, ``=`` and emoji stay: they are legal in Keycloak and
    ``ldap_rdn`` escapes them for LDAP.
    """
    text = unicodedata.normalize("NFC", text).replace(GROUP_PATH_SEPARATOR, SLASH_REPLACEMENT)
    text = "".join(
        " " if unicodedata.category(ch) in _SPACE_LIKE else ch for ch in text if ch not in _INVISIBLE
    )
    text = " ".join(text.split())
    if not text:
        text = " ".join(fallback.split())
    return truncate_name(text, MAX_GROUP_NAME)


_SPACE_LIKE = frozenset({"Cc", "Zl", "Zp", "Zs", "Cs"})
# Zero-width space, bidi embeddings/overrides/isolates and the BOM: invisible, and bidi controls
# can make a name read differently from what it is. ZWJ and variation selectors stay (emoji).
_INVISIBLE = frozenset("\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def truncate_name(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters without leaving a dangling joiner, mark or space."""
    if len(text) > limit:
        text = text[:limit]
        while text and (unicodedata.combining(text[-1]) or text[-1] in "\u200d\ufe0f" or text[-1].isspace()):
            text = text[:-1]
    if text.endswith("~"):
        text = text[:-1] + TILDE_REPLACEMENT
    return text


def ldap_rdn(name: str, attribute: str = "cn") -> str:
    """The RDN ``cn=<name>`` with the value escaped (RFC 4514: ``,+"\\<>;=``, leading ``#``, edge spaces)."""
    return f"{attribute}={escape_rdn(name)}"


def group_path(*names: str) -> str:
    """The Keycloak path of nested group names, each cleaned: ``/Clever/<a>/<b>``."""
    return GROUP_PATH_SEPARATOR + GROUP_PATH_SEPARATOR.join(group_name_safe(n) for n in names)


def root_path() -> str:
    """``/Clever``: the parent of every school group."""
    return group_path(ROOT_GROUP)


def school_path(school_name: str) -> str:
    """``/Clever/<School>``."""
    return group_path(ROOT_GROUP, school_name)


def role_group(role: Role) -> str:
    """The role group's name under a school ("Students", ...); ``ValueError`` for district admins."""
    try:
        return ROLE_GROUPS[role]
    except KeyError:
        raise ValueError(f"no school group for role {role.value!r}") from None


def role_path(school_name: str, role: Role) -> str:
    """``/Clever/<School>/Students`` (or Teachers, Staff, Parents)."""
    return group_path(ROOT_GROUP, school_name, role_group(role))


def classes_path(school_name: str) -> str:
    """``/Clever/<School>/Classes``."""
    return group_path(ROOT_GROUP, school_name, CLASSES_GROUP)


def class_path(school_name: str, class_name: str) -> str:
    """``/Clever/<School>/Classes/<class>``."""
    return group_path(ROOT_GROUP, school_name, CLASSES_GROUP, class_name)


# --- User attributes -----------------------------------------------------------------------------


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
