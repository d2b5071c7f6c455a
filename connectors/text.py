"""Pure text helpers every layer shares: the name fold of the name match, and LDAP's RDN escaping.

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
