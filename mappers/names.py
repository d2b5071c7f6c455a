"""Match Users By Name: link Clever people to existing realm accounts; usernames for new accounts.

Settings: ``options.match_users_by_name`` (``KCC_MATCH_USERS_BY_NAME``, default on). On,
``match_by_name`` proposes links; off, every Clever person gets a new account named by
``username_for``. Example::

    result = match_by_name(roster_people, realm_accounts)
    result.linked      # {"5f...01": Account(keycloak_id="b2c...", username="jdatos", ...)}
    result.unmatched   # ("5f...02",)               no account has this name: create one
    result.ambiguous   # (Ambiguity(("5f...03", "5f...04"), ("c9a...",), "..."),)   link nothing
    result.refused     # (Refusal("5f...05", ("d1e...",), "d1e...: realm admin"),)  link nothing

Rules, in order (docs/sync.md "Who can be linked to whom" says the same for admins):

1. An account already linked to a person's Clever id is that person's account, whatever its name
   or state (a rename in Clever, or a returning person whose account the sync disabled). The link
   already exists; nothing new is granted. Several accounts linked to one id are ambiguous.
2. An account is *out of place* for a person, and never a candidate, when it is linked to another
   Clever id, holds a ``clever-*`` realm role of a Clever role the person does not have (a staff
   account for a student), sits outside the person's ``Scope`` (``KCC_MATCH_SCOPES``: where the
   district keeps each Clever role, LDAP DNs or group paths; LDAP accounts outside
   ``KCC_LDAP_PEOPLE_DN``), or carries a strong identifier that differs from the person's.
3. Strong identifiers decide before names: an in-place account whose LDAP username equals the
   person's ``district_username``, or whose ``clever_sis_id`` / ``clever_student_number`` /
   ``clever_teacher_number`` equals the person's. One such account for one person: linked when
   eligible (rule 5), else refused; names are then not looked at.
4. Otherwise first and last name are compared after ``normalize_name``. A person whose first or
   last name is empty matches by first and last name never. Clever puts most contacts' whole
   name in ``name.last``: a person with an empty first name and a last name of two or more words
   is compared, whole, with each account's "first last" ("Maria de la Cruz" finds the account
   Maria / de la Cruz), under the same rules; an account that two names would claim (one
   person's "first last", another's whole name) is ambiguous, never linked.
   Linked only when the name is unique on both sides: exactly one Clever person of that name
   among the new people and exactly one in-place account of that name, and that account is
   eligible. Two people or two accounts: one ``Ambiguity`` listing the eligible accounts only
   (an admin's account is never offered). No in-place account: ``unmatched`` when no account had
   the name at all, else ``refused`` with each account and why.
5. *Eligible*: enabled, checked for privilege (``vetted``: Keycloak's effective roles were read)
   and holding no admin or management power, and (for the name rule only) names its user cannot
   edit. An unvetted account is never linked: when in doubt, do not link.

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
from connectors.state import REALM_ROLES, Account
from connectors.text import normalize_name


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the district keeps the accounts of each Clever role (``KCC_MATCH_SCOPES``).

    ``bases``: Clever role (``student``, ``teacher``, ``staff``, ``district_admin``, ``contact``) ->
    LDAP base DNs (``ou=students,dc=example,dc=org``) or Keycloak group paths (``/Staff``). A role
    with bases matches only accounts under one of them; an account under another role's base is
    out of place for every role but that one. ``ldap_dn``: LDAP accounts outside it (the synced
    people, ``KCC_LDAP_PEOPLE_DN``) are never candidates. Example::

        Scope({"student": ("ou=students,dc=example,dc=org",), "staff": ("/Staff",)}, "dc=example,dc=org")
    """

    bases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ldap_dn: str = ""

    @property
    def names_groups(self) -> bool:
        return any(base.startswith("/") for bases in self.bases.values() for base in bases)


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


def name_key(first: str, last: str) -> tuple[str, str] | None:
    key = (normalize_name(first), normalize_name(last))
    return key if all(key) else None


CLEVER_REALM_ROLES = frozenset(REALM_ROLES.values())
# (account attribute, Clever ``User`` field): identifiers that decide, and contradict, a match.
_STRONG: tuple[tuple[str, str], ...] = (
    ("clever_sis_id", "sis_id"),
    ("clever_student_number", "student_number"),
    ("clever_teacher_number", "teacher_number"),
)


def _dn(text: str) -> str:
    return ",".join(part.strip() for part in text.casefold().split(","))


def _within(account: Account, base: str) -> bool:
    if base.startswith("/"):
        return any(path == base or path.startswith(base.rstrip("/") + "/") for path in account.groups)
    dn, wanted = _dn(account.ldap_dn), _dn(base)
    return bool(dn) and (dn == wanted or dn.endswith("," + wanted))


def out_of_place(person: User, account: Account, scope: Scope) -> str:
    """Why ``account`` is not of ``person``'s kind (rule 2), or ""."""
    if account.linked_clever_id and account.linked_clever_id != person.clever_id:
        return f"is linked to Clever id {account.linked_clever_id}"
    theirs = {REALM_ROLES[role] for role in person.roles if role in REALM_ROLES}
    other = sorted((account.realm_roles & CLEVER_REALM_ROLES) - theirs)
    if other:
        return f"holds realm role {other[0]} (another Clever role)"
    if account.source == "ldap" and scope.ldap_dn and not _within(account, scope.ldap_dn):
        return "is outside the synced directory (KCC_LDAP_PEOPLE_DN)"
    roles = {role.value for role in person.roles}
    mine = [base for role in roles for base in scope.bases.get(role, ())]
    if not any(_within(account, base) for base in mine):
        if mine:
            return "is outside where the district keeps this Clever role (KCC_MATCH_SCOPES)"
        for role, bases in scope.bases.items():
            if role not in roles and any(_within(account, base) for base in bases):
                return f"is where the district keeps Clever role {role} (KCC_MATCH_SCOPES)"
    for name, value in _strong_pairs(account, person):
        if value[0] and value[1] and value[0] != value[1]:
            return f"carries another {name}"
    return ""


def _strong_pairs(account: Account, person: User) -> list[tuple[str, tuple[str, str]]]:
    held = dict(account.strong_ids)
    return [(name, (held.get(name, ""), str(getattr(person, field_)))) for name, field_ in _STRONG]


def strongly_identified(person: User, account: Account) -> bool:
    """Rule 3: an identifier both sides carry, and equal."""
    username = person.district_username.strip().casefold()
    if username and account.source == "ldap" and account.username.casefold() == username:
        return True
    return any(mine and mine == theirs for _, (mine, theirs) in _strong_pairs(account, person))


def _whole_key(first: str, last: str) -> tuple[str, str] | None:
    """("", "first last"): a whole name in ``name.last`` (rule 4), or an account's "first last"."""
    whole = normalize_name(f"{first} {last}")
    return ("", whole) if " " in whole else None


def _whole_name_in_last(person: User) -> tuple[str, str] | None:
    return None if normalize_name(person.first_name) else _whole_key("", person.last_name)


def person_key(person: User) -> tuple[str, str] | None:
    """The key a person is matched by name under (rule 4): first and last, or a whole name."""
    return name_key(person.first_name, person.last_name) or _whole_name_in_last(person)


def account_keys(account: Account) -> set[tuple[str, str]]:
    """The keys an account answers to by name: its first and last name, and its "first last"."""
    key = name_key(account.first_name, account.last_name)
    whole = _whole_key(account.first_name, account.last_name) if key else None
    return {k for k in (key, whole) if k}


def why_not(account: Account, *, by_name: bool = True) -> str:
    """Why an in-place account is not eligible (rule 5), or ""."""
    if not account.vetted:
        return "could not be checked for admin rights"
    if account.is_admin:
        return "has admin or management rights in the realm"
    if not account.enabled:
        return "is disabled"
    if by_name and account.names_editable:
        return "has names its user can edit (User Profile)"
    return ""


def match_by_name(
    people: Iterable[User], accounts: Iterable[Account], scope: Scope | None = None
) -> MatchResult:
    """Pair Clever people with existing accounts (rules in the module doc)."""
    scope = scope or Scope()
    unique_people = {p.clever_id: p for p in reversed(list(people))}  # first occurrence wins
    account_list = sorted(accounts, key=lambda a: a.keycloak_id)

    by_link: defaultdict[str, list[Account]] = defaultdict(list)
    by_name: defaultdict[tuple[str, str], list[Account]] = defaultdict(list)
    for account in account_list:
        if account.linked_clever_id:
            by_link[account.linked_clever_id].append(account)
        if key := name_key(account.first_name, account.last_name):
            by_name[key].append(account)
            if whole := _whole_key(account.first_name, account.last_name):
                by_name[whole].append(account)

    linked: dict[str, Account] = {}
    unmatched: list[str] = []
    ambiguous: list[Ambiguity] = []
    refused: list[Refusal] = []
    people_by_name: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    strong: dict[str, list[Account]] = {}
    for clever_id in sorted(unique_people):
        person = unique_people[clever_id]
        already = by_link.get(clever_id, [])
        if len(already) == 1:
            linked[clever_id] = already[0]
        elif already:
            ids = tuple(a.keycloak_id for a in already)
            ambiguous.append(Ambiguity((clever_id,), ids, "several accounts are linked to this Clever id"))
        elif found := [
            a
            for a in account_list
            if not a.linked_clever_id
            and strongly_identified(person, a)
            and not out_of_place(person, a, scope)
        ]:
            strong[clever_id] = found
        elif key := person_key(person):
            people_by_name[key].append(clever_id)
        else:
            unmatched.append(clever_id)

    claims: defaultdict[str, list[str]] = defaultdict(list)
    for clever_id, found in strong.items():
        for account in found:
            claims[account.keycloak_id].append(clever_id)
    for clever_id, found in strong.items():
        shared = sorted({c for a in found for c in claims[a.keycloak_id]})
        if len(found) > 1 or len(shared) > 1:
            if clever_id == shared[0]:
                ids = tuple(sorted({a.keycloak_id for c in shared for a in strong[c]}))
                ambiguous.append(
                    Ambiguity(tuple(shared), ids, "an identifier is shared (SIS id or username)")
                )
        elif why := why_not(found[0], by_name=False):
            refused.append(
                Refusal(
                    clever_id,
                    (found[0].keycloak_id,),
                    f"same identifier, not linkable: account {found[0].keycloak_id} {why}",
                )
            )
        else:
            linked[clever_id] = found[0]
    taken = {a.keycloak_id for found in strong.values() for a in found}
    # An account some person's name and another's whole name would both claim: link neither.
    name_claims = Counter(
        a.keycloak_id for key in people_by_name for a in by_name.get(key, ()) if a.keycloak_id not in taken
    )

    for key, clever_ids in people_by_name.items():
        candidates = [a for a in by_name.get(key, []) if a.keycloak_id not in taken]
        placed = {
            c: [a for a in candidates if not out_of_place(unique_people[c], a, scope)] for c in clever_ids
        }
        in_place = sorted(
            {a.keycloak_id: a for c in clever_ids for a in placed[c]}.values(), key=lambda a: a.keycloak_id
        )
        eligible = [a for a in in_place if not why_not(a)]
        if not candidates:
            unmatched.extend(clever_ids)
        elif (
            len(clever_ids) == 1
            and len(in_place) == 1
            and eligible
            and name_claims[eligible[0].keycloak_id] == 1
        ):
            linked[clever_ids[0]] = eligible[0]
        elif not eligible:
            ids = tuple(a.keycloak_id for a in candidates)
            first = unique_people[clever_ids[0]]
            reasons = [
                f"account {a.keycloak_id} {out_of_place(first, a, scope) or why_not(a)}" for a in candidates
            ]
            reason = "same name, not linkable: " + "; ".join(reasons)
            refused.extend(Refusal(c, ids, reason) for c in clever_ids)
        else:
            ids = tuple(a.keycloak_id for a in eligible)
            reason = f"{len(clever_ids)} Clever people and {len(in_place)} accounts share this name"
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
