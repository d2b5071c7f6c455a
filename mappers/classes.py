"""Force Unique Class Names: the name of each section's class group.

Settings: ``options.force_unique_class_names`` (default off). Example::

    class_group_names([Section(clever_id="5f...a1", school="5f...s1", name="Math 7/8", ...)], True)
    # ClassNames(names={"5f...a1": "Math 7/8 - 5f...a1"}, warnings=())

On: ``<section name> - <Clever section id>`` (the article's "Classroom1 - 12345"); unique in the
district by construction.

Off: the section name. Clever does not keep section names unique, and LDAP compares ``cn``
without case, so sections of one school whose names are equal after ``normalize_name`` are a
collision. In each collision the section with the smallest Clever id keeps the plain name and
every other one gets `` (<last 6 hex of its Clever id>)`` (the whole id if that is not enough).
Clever ids grow with creation time, so a section that appears later collides *into* an existing
name and gets the suffix: the existing group keeps its name. Each collision is one warning naming
the school, the name and the section ids.

All names go through ``group_name_safe`` (control characters removed, spaces trimmed and
collapsed; ``/`` kept: Keycloak 26.5 takes it), cut only where Keycloak (255 characters) or LDAP
(240 bytes as escaped) would refuse the name, with the id suffix kept whole. A cut name is one
warning naming the section; the whole Clever name is kept in the group's ``clever_name``
attribute (``plugin.sync.desired``). A section without a name is ``Section <Clever id>``. Group
identity is the Clever id (a group attribute written by the pipeline), so a renamed section
renames its group.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ldap3.utils.dn import escape_rdn

from mappers.layout import CLASSES_GROUP, ROLE_GROUPS, ROOT_GROUP
from model.ownership import ROOT_MARK, ROOT_MARK_VERSION
from model.records import School, Section
from model.state import REALM_ROLE_ATTRIBUTE, REALM_ROLES, GroupSpec, PackedAttributes
from model.text import normalize_name

__all__ = [
    "ClassNames",
    "GroupTree",
    "class_group_names",
    "clean_group_name",
    "fits_group_name",
    "group_name_safe",
    "group_tree",
    "name_values",
    "school_group_names",
    "truncate_name",
    "whole_name",
]

SHORT_ID = 6

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


@dataclass(frozen=True, slots=True)
class ClassNames:
    names: Mapping[str, str]  # Clever id → group name, in Clever-id order
    warnings: tuple[str, ...] = ()


def _with_suffix(base: str, suffix: str) -> str:
    """``base`` + ``suffix``, ``base`` cut so the whole fits both directories and the suffix stays."""
    return group_name_safe(base, suffix=suffix)


def _plain_name(clever_id: str, name: str) -> str:
    return group_name_safe(name, fallback=f"Section {clever_id}")


def _key(name: str) -> str:
    return normalize_name(name)


def _disambiguate(
    scope_label: str, kind: str, items: list[tuple[str, str]]
) -> tuple[dict[str, str], list[str]]:
    """``(clever id, plain name)`` items of one scope → unique names and one warning per collision."""
    groups: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for clever_id, name in sorted(items):
        groups[_key(name)].append((clever_id, name))

    names: dict[str, str] = {}
    used: set[str] = set()
    for members in groups.values():  # every plain name is reserved before any suffix is chosen
        clever_id, name = members[0]
        names[clever_id] = name
        used.add(_key(name))

    warnings: list[str] = []
    for members in groups.values():
        if len(members) == 1:
            continue
        for clever_id, name in members[1:]:
            tries = [f" ({clever_id[-SHORT_ID:]})", f" ({clever_id})"]
            tries += [f" ({clever_id}) ({n})" for n in range(2, len(items) + 2)]
            final = next(c for c in (_with_suffix(name, s) for s in tries) if _key(c) not in used)
            names[clever_id] = final
            used.add(_key(final))
        shown = ", ".join(f"{cid} → {names[cid]!r}" for cid, _ in members)
        warnings.append(
            f"{scope_label}: {len(members)} {kind} named {members[0][1]!r} get separate groups: {shown}"
        )
    return names, warnings


def class_group_names(
    sections: Iterable[Section],
    force_unique: bool,
    school_names: Mapping[str, str] | None = None,
) -> ClassNames:
    """Group names of ``sections`` (rules in the module doc); ``school_names`` only label warnings."""
    unique = {s.clever_id: s for s in sections}
    cut = _cut_warnings(unique.values())
    if force_unique:
        names = {
            cid: (
                _with_suffix(group_name_safe(s.name), f" - {cid}")
                if group_name_safe(s.name)
                else _plain_name(cid, "")
            )
            for cid, s in sorted(unique.items())
        }
        return ClassNames(names=names, warnings=cut)

    by_school: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for cid, section in unique.items():
        by_school[section.school].append((cid, _plain_name(cid, section.name)))

    all_names: dict[str, str] = {}
    warnings: list[str] = []
    for school_id in sorted(by_school):
        school_name = (school_names or {}).get(school_id, "")
        label = f"School {school_name!r} ({school_id})" if school_name else f"School {school_id}"
        names, found = _disambiguate(label, "sections", by_school[school_id])
        all_names.update(names)
        warnings.extend(found)
    return ClassNames(names=dict(sorted(all_names.items())), warnings=(*cut, *warnings))


def _cut_warnings(sections: Iterable[Section]) -> tuple[str, ...]:
    """One warning per section whose name is too long for a group name (cut to fit)."""
    found = []
    for section in sorted(sections, key=lambda s: s.clever_id):
        clean = clean_group_name(section.name)
        if clean and group_name_safe(clean) != clean:
            found.append(
                f"section {section.clever_id}: its name ({len(clean)} characters) is longer than "
                f"Keycloak and LDAP take for a group: the group is named with its first "
                f"{len(group_name_safe(clean))}; the whole name is in the group's clever_name attribute"
            )
    return tuple(found)


def school_group_names(schools: Iterable[School]) -> ClassNames:
    """Group names of the district's schools: cleaned, and namesakes kept apart as for classes."""
    items = [(s.clever_id, group_name_safe(s.name, fallback=f"School {s.clever_id}")) for s in schools]
    names, warnings = _disambiguate("District", "schools", list(dict(items).items()))
    return ClassNames(names=dict(sorted(names.items())), warnings=tuple(warnings))


# --- The group tree: ``/Clever/<School>/{Students,Teachers,Staff,Parents,Classes/<class>}`` ------

ROLE_OF_GROUP = {name: role for role, name in ROLE_GROUPS.items()}


@dataclass(slots=True)
class GroupTree:
    """The groups a roster calls for (by sync key), who is in which class (Clever id -> section
    keys), the chosen schools' group names, every school of the district, and the warnings."""

    groups: dict[str, GroupSpec]
    member_of: dict[str, tuple[str, ...]]
    school_names: dict[str, str]
    district_schools: set[str]
    warnings: list[str]


def group_tree(
    schools: Iterable[School], sections: Iterable[Section], force_unique: bool, school_ids: frozenset[str]
) -> GroupTree:
    """The root, a group per chosen school with its role groups and ``Classes``, a class group per
    section of those schools (keyed ``root``, ``school:<id>``, ``school:<id>:students`` ...,
    ``section:<id>``); school and class groups carry ``clever_id``, a class its teachers' Clever ids
    in ``clever_teachers`` and its whole name in ``clever_name``."""
    every = list(schools)
    names = school_group_names(s for s in every if not school_ids or s.clever_id in school_ids)
    groups = _school_groups(names.names)
    listed = [s for s in sections if s.school in names.names]
    class_names = class_group_names(listed, force_unique, names.names)
    member_of = _class_groups(listed, class_names.names, groups)
    district = {s.clever_id for s in every}
    return GroupTree(groups, member_of, dict(names.names), district, [*names.warnings, *class_names.warnings])


def _school_groups(school_names: Mapping[str, str]) -> dict[str, GroupSpec]:
    # The root says its realm's links are ownership records (``plugin.sso.links``).
    root = {"clever_key": ("root",), ROOT_MARK: (ROOT_MARK_VERSION,)}
    groups = {"root": GroupSpec("root", ROOT_GROUP, None, "root", root)}
    for school_id, name in school_names.items():
        key = f"school:{school_id}"
        groups[key] = GroupSpec(
            key, name, "root", "school", {"clever_key": (key,), "clever_id": (school_id,)}
        )
        for child in (*ROLE_GROUPS.values(), CLASSES_GROUP):
            child_key = f"{key}:{child.lower()}"
            attributes: dict[str, tuple[str, ...]] = {"clever_key": (child_key,)}
            if child in ROLE_OF_GROUP:
                attributes[REALM_ROLE_ATTRIBUTE] = (REALM_ROLES[ROLE_OF_GROUP[child]],)
            groups[child_key] = GroupSpec(child_key, child, key, "role", attributes)
    return groups


def _class_groups(
    listed: list[Section], names: Mapping[str, str], groups: dict[str, GroupSpec]
) -> dict[str, tuple[str, ...]]:
    """The class group of each section (into ``groups``); who is in which class."""
    # Memory: a list per person while sections come (a set of ~8 keys is six times the size);
    # repeats are harmless.
    in_sections: defaultdict[str, list[str]] = defaultdict(list)
    for section in listed:
        key = f"section:{section.clever_id}"
        teachers = tuple(
            dict.fromkeys((section.teacher, *section.teachers) if section.teacher else section.teachers)
        )
        whole = name_values(section.name)  # the name whole, as Clever has it
        groups[key] = GroupSpec(
            key,
            names[section.clever_id],
            f"school:{section.school}:classes",
            "class",
            PackedAttributes(  # memory: a district's classes are many (15,265 at 50,000 students)
                {
                    "clever_key": (key,),
                    "clever_id": (section.clever_id,),
                    "clever_teachers": teachers,
                    "clever_name": whole,
                }
            ),
        )
        for clever_id in (*teachers, *section.students):
            in_sections[clever_id].append(key)
    # Memory: a tuple per person once the lists are complete (60 bytes less each).
    return {clever_id: tuple(keys) for clever_id, keys in in_sections.items()}
