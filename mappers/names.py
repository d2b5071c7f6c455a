"""Match Users By Name: link Clever people to existing realm accounts; usernames for new accounts.

Settings: ``options.match_by_name`` (default on). On, ``match_by_name`` proposes links; off, every
Clever person gets a new account named by ``username_for``. Example::

    result = match_by_name(roster_people, realm_accounts)
    result.linked      # {"5f...01": Account(keycloak_id="b2c...", username="jdatos", ...)}
    result.unmatched   # ("5f...02",)               no account has this name: create one
    result.ambiguous   # (Ambiguity(("5f...03", "5f...04"), ("c9a...",), "..."),)   link nothing
    result.refused     # (Refusal("5f...05", ("d1e...",), "d1e...: realm admin"),)  link nothing

Rules, in order:

1. An account already linked to a person's Clever id is that person's account, whatever its name
   or state (a rename in Clever, or a returning person whose account the sync disabled). The link
   already exists; nothing new is granted. Several accounts linked to one id are ambiguous.
2. Otherwise first and last name are compared after ``normalize_name``. A person whose first or
   last name is empty matches by first and last name never. Clever puts most contacts' whole
   name in ``name.last``: a person with an empty first name and a last name of two or more words
   is compared, whole, with each account's "first last" ("Maria de la Cruz" finds the account
   Maria / de la Cruz). The same rules 3 and 4 apply; an account that two names would claim
   (one person's "first last", another's whole name) is ambiguous, never linked.
3. An account is *eligible* when it is enabled, holds no admin rights in the realm and is linked to
   no Clever id. Accounts that match the name but are not eligible never get linked.
4. Per normalized name: exactly one person and exactly one eligible account → linked. No eligible
   account → the person is ``unmatched`` when no account had the name at all, else ``refused``
   with each excluded account and why (so "why did Jess get a second account?" has an answer).
   Anything else (two accounts for one person, two people for one account) → one ``Ambiguity``
   holding every person and eligible account of that name; nothing is linked.

Reasons name Clever and Keycloak ids only, never people's names: reports and logs are read by
more people than the roster is.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from connectors.records import User

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


@dataclass(frozen=True, slots=True)
class Account:
    """An existing realm account as the name match sees it (read by ``connectors/keycloak.py``)."""

    keycloak_id: str
    username: str
    first_name: str
    last_name: str
    enabled: bool = True
    is_admin: bool = False  # realm-admin or any realm-management role, directly or by group
    linked_clever_id: str = ""
    source: str = "local"  # "ldap", "google", "microsoft", "local"
    read_only: bool = False  # LDAP federation in READ_ONLY mode
    ldap_dn: str = ""


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """People and accounts of one name that could not be paired one to one."""

    clever_ids: tuple[str, ...]
    keycloak_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A person whose only name matches are accounts the sync must not link."""

    clever_id: str
    keycloak_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    linked: Mapping[str, Account]  # clever_id → account, in Clever-id order
    unmatched: tuple[str, ...]  # clever ids no account matched: create an account
    ambiguous: tuple[Ambiguity, ...]
    refused: tuple[Refusal, ...] = field(default=())


def _name_key(first: str, last: str) -> tuple[str, str] | None:
    key = (normalize_name(first), normalize_name(last))
    return key if all(key) else None


def _whole_key(first: str, last: str) -> tuple[str, str] | None:
    """("", "first last"): a whole name in ``name.last`` (rule 2), or an account's "first last"."""
    whole = normalize_name(f"{first} {last}")
    return ("", whole) if " " in whole else None


def _whole_name_in_last(person: User) -> tuple[str, str] | None:
    return None if normalize_name(person.first_name) else _whole_key("", person.last_name)


def _why_not(account: Account) -> str:
    if account.is_admin:
        return "has admin rights in the realm"
    if not account.enabled:
        return "is disabled"
    return f"is linked to Clever id {account.linked_clever_id}"


def _eligible(account: Account) -> bool:
    return account.enabled and not account.is_admin and not account.linked_clever_id


def match_by_name(people: Iterable[User], accounts: Iterable[Account]) -> MatchResult:
    """Pair Clever people with existing accounts by first and last name (rules in the module doc)."""
    unique_people = {p.clever_id: p for p in reversed(list(people))}  # first occurrence wins
    account_list = sorted(accounts, key=lambda a: a.keycloak_id)

    by_link: defaultdict[str, list[Account]] = defaultdict(list)
    by_name: defaultdict[tuple[str, str], list[Account]] = defaultdict(list)
    for account in account_list:
        if account.linked_clever_id:
            by_link[account.linked_clever_id].append(account)
        if key := _name_key(account.first_name, account.last_name):
            by_name[key].append(account)
            if whole := _whole_key(account.first_name, account.last_name):
                by_name[whole].append(account)

    linked: dict[str, Account] = {}
    unmatched: list[str] = []
    ambiguous: list[Ambiguity] = []
    refused: list[Refusal] = []
    people_by_name: defaultdict[tuple[str, str], list[str]] = defaultdict(list)

    for clever_id in sorted(unique_people):
        person = unique_people[clever_id]
        already = by_link.get(clever_id, [])
        if len(already) == 1:
            linked[clever_id] = already[0]
        elif already:
            ids = tuple(a.keycloak_id for a in already)
            ambiguous.append(Ambiguity((clever_id,), ids, "several accounts are linked to this Clever id"))
        elif key := _name_key(person.first_name, person.last_name) or _whole_name_in_last(person):
            people_by_name[key].append(clever_id)
        else:
            unmatched.append(clever_id)

    # An account some person's name and another's whole name would both claim: link neither.
    claims = Counter(a.keycloak_id for key in people_by_name for a in by_name.get(key, ()) if _eligible(a))

    for key, clever_ids in people_by_name.items():
        candidates = by_name.get(key, [])
        eligible = [a for a in candidates if _eligible(a)]
        if not candidates:
            unmatched.extend(clever_ids)
        elif not eligible:
            ids = tuple(a.keycloak_id for a in candidates)
            reason = "; ".join(f"account {a.keycloak_id} {_why_not(a)}" for a in candidates)
            refused.extend(Refusal(c, ids, f"same name, not linkable: {reason}") for c in clever_ids)
        elif len(clever_ids) == 1 and len(eligible) == 1 and claims[eligible[0].keycloak_id] == 1:
            linked[clever_ids[0]] = eligible[0]
        else:
            ids = tuple(a.keycloak_id for a in eligible)
            reason = f"{len(clever_ids)} Clever people and {len(ids)} accounts share this name"
            ambiguous.append(Ambiguity(tuple(clever_ids), ids, reason))

    return MatchResult(
        linked=dict(sorted(linked.items())),
        unmatched=tuple(sorted(unmatched)),
        ambiguous=tuple(sorted(ambiguous, key=lambda a: a.clever_ids)),
        refused=tuple(sorted(refused, key=lambda r: r.clever_id)),
    )


# --- Usernames for new accounts (Match Users By Name off, or nobody matched) -------------------

USERNAME_MIN = 3  # Keycloak's default user profile: length 3..255
USERNAME_MAX = 64  # room left for a collision suffix, and short enough to type
_USERNAME_DROP = re.compile(r"['\"`]")
_USERNAME_INVALID = re.compile(r"[^a-z0-9._@-]+")


def clean_username(text: str) -> str:
    """``text`` as a Keycloak username: ASCII lower case, ``a-z 0-9 . _ - @``; "" if under 3 chars.

    Accents are stripped ("José" → "jose"), apostrophes dropped ("o'brien" → "obrien"), any other
    run of characters outside the set becomes ``-``; edge punctuation is trimmed.
    """
    text = normalize_name(text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _USERNAME_INVALID.sub("-", _USERNAME_DROP.sub("", text)).strip("._-@")
    text = text[:USERNAME_MAX].rstrip("._-@")
    return text if len(text) >= USERNAME_MIN else ""


def username_candidates(user: User) -> list[str]:
    """Usable usernames for ``user``, best first; ``username_for`` takes the first.

    Clever's ``district_username``, else the local part of the email (Clever's emails are
    unverified, but a username grants nothing), else ``clever-<Clever id>``.
    """
    local_part = user.email.rpartition("@")[0] if "@" in user.email else ""
    found = [clean_username(user.district_username), clean_username(local_part)]
    found.append(f"clever-{user.clever_id.lower()}")
    return list(dict.fromkeys(name for name in found if name))


def username_for(user: User, taken: Callable[[str], bool] | set[str] | frozenset[str]) -> str:
    """A free username for a new account of ``user``; ``taken`` answers for lower-case names.

    The first of ``username_candidates``; when it is taken, it gets
    ``-<last 6 of the Clever id>``, then ``-<whole Clever id>``, then ``2``, ``3``, ... — the id
    suffixes do not depend on the order in which new people are created, so two namesakes get
    the same usernames whichever run or order creates them. The caller adds the result to
    ``taken`` before naming the next person.
    """
    is_taken = taken if callable(taken) else taken.__contains__
    candidates = username_candidates(user)
    best = candidates[0]
    suffix_id = user.clever_id.lower()
    for name in (best, f"{best}-{suffix_id[-6:]}", f"{best}-{suffix_id}"):
        if not is_taken(name):
            return name
    n = 2
    while is_taken(f"{best}{n}"):
        n += 1
    return f"{best}{n}"
