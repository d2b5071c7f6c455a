"""Text Clever sent that is not text: bytes that are not UTF-8, and lone surrogates (``"\\ud800"``).

The page decoder (``connectors.clever_json``) keeps bytes that are not UTF-8 as surrogates
(``surrogateescape``) instead of replacing them, so both faults look the same here: a string with
a surrogate in it. Nothing of such a string is written anywhere (Keycloak and LDAP would store it
changed, or refuse it). ``bad_text`` names the fields that hold one (dotted paths, never values);
``CleverClient.stream`` then skips a person with those fields named (they wait on the page and an
account they have is kept, not disabled) and, for other records, drops the field with a warning.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REASON = "not valid text in Clever's data (bytes that are not UTF-8, or a lone surrogate)"


def bad_text(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the strings in ``value`` that hold a surrogate (``[]``: all good)."""
    if isinstance(value, str):
        return [path or "(value)"] if not value.isascii() and _SURROGATE.search(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str | dict | list):
                found.extend(bad_text(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found.extend(bad_text(item, f"{path}[{n}]"))
    return found


def scrubbed(value: Any) -> Any:
    """``value`` with every string that holds a surrogate dropped (``None``; out of a list)."""
    if isinstance(value, str):
        return None if not value.isascii() and _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {key: scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item for item in (scrubbed(v) for v in value) if item is not None]
    return value
