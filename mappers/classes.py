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

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connectors.records import School, Section
from connectors.text import normalize_name
from mappers.layout import clean_group_name, group_name_safe

__all__ = [
    "ClassNames",
    "class_group_names",
    "group_name_safe",
    "school_group_names",
]

SHORT_ID = 6


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
