"""Pure text helpers every layer shares: the name fold of the name match, LDAP's RDN escaping, and
DNs taken apart and compared.

Why here and not in ``mappers``: both are facts about text, not choices about people. The Keycloak
reader folds names to undo a directory's quirk (``connectors.keycloak_read``), the LDAP connector
escapes the group names it writes (``connectors.ldap``), and the policy (``mappers.names``,
``mappers.classes``, ``plugin.sync.plan``) applies the same two functions. Kept with the connectors'
plain data, they are importable by connectors without importing policy; the decisions made with
them (who is matched to whom, which name a group gets) stay in ``mappers``.
"""

from __future__ import annotations

import unicodedata

from ldap3.utils.dn import escape_rdn

# Every apostrophe-like character Clever or a directory may hold → "'"; hyphens and dashes → "-".
_APOSTROPHES = "\u2019\u2018\u02bc\u0060\u00b4\u2032\u02b9\uff07"
_HYPHENS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
_FOLD = str.maketrans({**dict.fromkeys(_APOSTROPHES, "'"), **dict.fromkeys(_HYPHENS, "-")})


def normalize_name(text: str) -> str:
    """``text`` as compared by the name match: "  José  López‑García " → "jose lopez-garcia".

    Apostrophe and hyphen variants are folded before NFKC as well as after, because NFKC turns
    the acute accent ``´`` into a space plus a combining mark.
    """
    text = unicodedata.normalize("NFKC", text.translate(_FOLD)).translate(_FOLD)
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def ldap_rdn(name: str, attribute: str = "cn") -> str:
    """The RDN ``cn=<name>`` with the value escaped (RFC 4514: ``,+"\\<>;=``, leading ``#``, edge spaces)."""
    return f"{attribute}={escape_rdn(name)}"


def dn_norm(dn: str) -> str:
    """A DN for comparison: attribute names lower-cased, values unescaped (``\\,`` and ``\\2C`` alike)."""
    parts = []
    for rdn in dn_split(dn):
        attr, _, value = rdn.partition("=")
        parts.append(f"{attr.strip().lower()}={_unescape(value)}")
    return ",".join(parts)


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    raw = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 2 < len(value) + 1:
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw.append(int(pair, 16))
                i += 3
                continue
            raw.extend(value[i + 1].encode())
            i += 2
            continue
        raw.extend(char.encode())
        i += 1
    return raw.decode("utf-8", "replace")


def dn_split(dn: str) -> list[str]:
    """The RDNs of a DN, escaped commas kept inside their RDN."""
    if "\\" not in dn:
        return dn.split(",")
    parts: list[str] = []
    current = ""
    escaped = False
    for char in dn:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def rdn_of(dn: str) -> str:
    return dn_split(dn)[0]


def dn_parent(dn: str) -> str:
    return ",".join(dn_split(dn)[1:])
