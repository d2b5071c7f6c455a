"""A person's names as Keycloak can hold them, and the report's words for what was changed.

Real SIS data holds names Keycloak will not store as they are (measured on Keycloak 26.5, both
write paths: ``tests/integration/test_hard_long_names.py``):

* a control character (U+0000 to U+001F, U+007F to U+009F): NUL fails the whole write (its
  database cannot store it: "Could not create user", or a 500), the others are stored but are
  no part of anybody's name. ``clean_name`` removes them (a tab or line break becomes a space,
  spaces then collapse), and the report lists the code points removed, never the name;
* a first or last name over ``NAME_MAX`` (255) characters: Keycloak refuses the account
  (``firstName``/``lastName``'s length rule, its column). The account shows the first 255
  (``cut``: never a letter without its accent, no trailing space), and the whole name is kept in
  ``clever_first_name`` / ``clever_last_name``;
* an attribute value over ``VALUE_MAX`` (2,048) characters: Keycloak's default length rule for a
  declared attribute refuses it. A whole name that long is kept in parts, ``1:<part>``,
  ``2:<part>`` ... (``split_value``; ``whole_value`` joins them), the two attributes being
  multivalued for that (``plugin.sso.broker.MULTIVALUED_ATTRIBUTES``).

Lengths are counted as Keycloak counts them: UTF-16 code units (an emoji is two).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

NAME_MAX = 255  # Keycloak's limit for firstName and lastName (the User Profile's rule, its column)
VALUE_MAX = 2048  # Keycloak's default length rule of a declared attribute's value
WHOLE = {"first": "clever_first_name", "last": "clever_last_name"}
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85")  # controls that separate words


@dataclass(frozen=True, slots=True)
class FittedNames:
    """The names to write, the ``clever_*`` attributes keeping what was cut, and what was done
    (``notes``: plain words for the report, without the names themselves)."""

    first: str
    last: str
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def units(text: str) -> int:
    """The length of ``text`` as Keycloak (Java) counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def clean_name(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` without control characters, and the code points removed (``"U+0000"`` ...)."""
    removed = tuple(dict.fromkeys(f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cc"))
    if not removed:
        return text, ()
    spaced = "".join(
        " " if ch in _SPACES else ch for ch in text if ch in _SPACES or unicodedata.category(ch) != "Cc"
    )
    return " ".join(spaced.split()), removed


def cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units, never between a letter and its marks
    (combining accents, an emoji's joiner or variation selector); trailing spaces dropped."""
    if units(text) <= limit:
        return text
    size = limit
    while size and (units(text[:size]) > limit or _mark_at(text, size)):
        size -= 1
    return text[:size].rstrip()


def split_value(text: str, limit: int = VALUE_MAX) -> tuple[str, ...]:
    """``text`` as attribute values of at most ``limit`` units: itself, or ``1:<part>``,
    ``2:<part>`` ... in order (a part never splits a character)."""
    if units(text) <= limit:
        return (text,) if text else ()
    parts: list[str] = []
    rest = text
    while rest:
        prefix = f"{len(parts) + 1}:"
        size = min(len(rest), limit - len(prefix))
        while size > 1 and (units(rest[:size]) > limit - len(prefix) or _mark_at(rest, size)):
            size -= 1
        parts.append(prefix + rest[:size])
        rest = rest[size:]
    return tuple(parts)


def whole_value(values: Iterable[str]) -> str:
    """The value ``split_value`` made (a value in one piece is itself)."""
    found = list(values)
    if len(found) <= 1:
        return found[0] if found else ""
    ordered = sorted((int(v.partition(":")[0]), v.partition(":")[2]) for v in found)
    return "".join(part for _, part in ordered)


def fit_names(first: str, last: str) -> FittedNames:
    """First and last name cleaned and cut as Keycloak holds them, the whole names kept."""
    shown: dict[str, str] = {}
    attributes: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for which, raw in (("first", first), ("last", last)):
        clean, removed = clean_name(raw)
        if removed:
            notes.append(
                f"the {which} name held control characters ({', '.join(removed)}), "
                "which are no part of a name: they were removed"
            )
        shown[which] = cut(clean, NAME_MAX)
        if shown[which] != clean:
            values = split_value(clean)
            attributes[WHOLE[which]] = values
            notes.append(_cut_note(which, clean, values))
    return FittedNames(shown["first"], shown["last"], attributes, tuple(notes))


def fitted_warning(clever_id: str, fitted: FittedNames) -> str:
    """The one warning of a person whose names were changed to fit (said on the run that writes it)."""
    return f"{clever_id}: " + "; ".join(fitted.notes)


def _cut_note(which: str, whole: str, values: tuple[str, ...]) -> str:
    where = WHOLE[which]
    kept = (
        f"the whole name is kept in {where}"
        if len(values) == 1
        else f"the whole name is kept in {where}, in {len(values)} values of at most {VALUE_MAX:,} "
        f"characters, each starting with its number (1: to {len(values)}:)"
    )
    return (
        f"the {which} name ({units(whole):,} characters) is longer than the {NAME_MAX} Keycloak shows: "
        f"the account shows its first {units(cut(whole, NAME_MAX))}; {kept}"
    )


def _mark_at(text: str, at: int) -> bool:
    """Whether cutting ``text`` before index ``at`` would part a mark from what it marks."""
    return at < len(text) and (
        unicodedata.category(text[at]) in ("Mn", "Me") or "\u200d" in (text[at], text[at - 1])
    )
