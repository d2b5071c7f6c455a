"""Where Clever data lands in Keycloak: attribute names, role names, the group tree.

Shared vocabulary of the broker (which declares these attributes in the realm's User Profile,
because Keycloak 24+ silently drops undeclared ones) and the sync (which writes them). The plain
data the connectors need as well (``IDP_ALIAS``, ``REALM_ROLES``, ``ldap_rdn``) lives in
``connectors.state`` and ``connectors.text``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ldap3.utils.dn import escape_rdn

from connectors.records import Role, User
from connectors.state import CREATED_MARK

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
# attributes, so a sync never rewrites or removes it): ``connectors.state.CREATED_MARK``.
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

# The primary role shown in ``clever_role`` when a person holds several: the most privileged
# first, and teacher before staff because a teacher's classes are what the sync builds.
ROLE_PRIORITY: tuple[Role, ...] = (
    Role.DISTRICT_ADMIN,
    Role.TEACHER,
    Role.STAFF,
    Role.STUDENT,
    Role.CONTACT,
)

# What the two directories accept, measured (``tests/integration/test_hard_classes.py``):
# Keycloak 26.5 refuses a group name over 255 characters (a 500) and accepts ``/`` in a name
# (``group-by-path`` and ``POST /users`` with group paths find such a group); OpenLDAP (back-mdb)
# refuses an RDN whose escaped value is over ~242 UTF-8 bytes ("other"). One name serves both,
# so a group name is at most ``MAX_GROUP_NAME`` characters *and* ``LDAP_RDN_BYTES`` bytes as
# ``ldap_rdn`` escapes it; a longer Clever name is cut (with a warning, ``mappers.classes``) and
# kept whole in the group's ``clever_name`` attribute (``name_values``).
MAX_GROUP_NAME = 255
LDAP_RDN_BYTES = 240
# Keycloak also holds a group attribute value in 255 characters: a longer name is kept in parts.
MAX_ATTRIBUTE_VALUE = 255
# A name ending in ``~`` breaks Keycloak's path parser (``~/`` is its escape for ``/``):
# a trailing ``~`` becomes U+223C TILDE OPERATOR.
TILDE_REPLACEMENT = "\u223c"


def fits_group_name(name: str) -> bool:
    """Whether both Keycloak and LDAP take ``name`` as a group name."""
    units = len(name.encode("utf-16-le")) // 2  # Keycloak counts Java chars (UTF-16 units)
    return units <= MAX_GROUP_NAME and len(escape_rdn(name).encode()) <= LDAP_RDN_BYTES


def clean_group_name(text: str, fallback: str = "") -> str:
    """``text`` NFC-normalized, control and invisible characters dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if unicodedata.category(ch) in _SPACE_LIKE else ch for ch in text if ch not in _INVISIBLE
    )
    text = " ".join(text.split())
    return text or " ".join(fallback.split())


def group_name_safe(text: str, fallback: str = "", suffix: str = "") -> str:
    """``text`` made a valid Keycloak group name and LDAP ``cn`` value; ``fallback`` when empty.

    ``clean_group_name``, then cut (``truncate_name``) until it fits both directories with
    ``suffix`` (kept whole) after it; a trailing ``~`` → ``∼``. ``/``, a leading ``#``, commas,
    ``+``, ``=`` and emoji stay: Keycloak takes them and ``ldap_rdn`` escapes them for LDAP.
    """
    text = clean_group_name(text, fallback)
    limit = len(text)
    while limit and not fits_group_name(truncate_name(text, limit) + suffix):
        limit -= 1
    return truncate_name(text, limit) + suffix if suffix else truncate_name(text, limit)


def name_values(name: str) -> tuple[str, ...]:
    """``name`` as ``clever_name`` attribute values: itself, or ``1:<part>``, ``2:<part>`` ... when
    longer than a Keycloak attribute value holds (``whole_name`` joins them again)."""
    if len(name) <= MAX_ATTRIBUTE_VALUE:
        return (name,) if name else ()
    size = MAX_ATTRIBUTE_VALUE - 4
    return tuple(f"{n + 1}:{name[i : i + size]}" for n, i in enumerate(range(0, len(name), size)))


def whole_name(values: Iterable[str]) -> str:
    """The name ``name_values`` split into parts."""
    found = list(values)
    if len(found) <= 1:  # a name that needs parts has two or more
        return found[0] if found else ""
    parts = sorted((int(v.partition(":")[0]), v.partition(":")[2]) for v in found)
    return "".join(part for _, part in parts)


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
