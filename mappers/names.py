"""Match Users By Name: link Clever people to existing realm accounts; usernames for new accounts.

Settings: ``options.match_users_by_name`` (``KCC_MATCH_USERS_BY_NAME``, default on). On,
``match_by_name`` proposes links; off, every Clever person gets a new account named by
``username_for``. Example::

    result = match_by_name(roster_people, realm_accounts, scope)
    result.linked      # {"5f...01": Account(keycloak_id="b2c...", username="jdatos", ...)}
    result.unmatched   # ("5f...02",)         no account could be theirs: create one
    result.ambiguous   # (Ambiguity(("5f...03", "5f...04"), ("c9a...",), "..."),)   they wait
    result.refused     # (Held("5f...05", ("d1e...",), "...holds realm role staff"),)   waits
    result.possible    # (Held("5f...06", ("e2f...",), "...differs only in hyphens..."),)   waits
    result.unlinked    # (Held("5f...07", ("f3a...",), "...was unlinked"),)   waits
    result.passed_over # (Held("5f...08", ("a4b...",), "...is linked to Clever id ..."),)  new account

Rules, in order (docs/sync.md "Who can be linked to whom" says the same for admins; what one
account is for one person is ``mappers.eligibility``):

1. An account already linked to a person's Clever id is that person's account, whatever its name
   or state. Several accounts linked to one id are ambiguous.
2. An account that carries a person's ``clever_id`` attribute but has no link of theirs
   (``Account.carried_clever_id``) was unlinked: that person is never matched nor given a new
   account automatically; they wait (``unlinked``) with that account listed, until an admin links
   them to it, to another account, or has a new one made. The account is out of place for
   everybody else.
3. An account is *out of place* for a person, and never listed, when it is some other kind of
   person's (``mappers.eligibility.out_of_place``: linked to another Clever id, another Clever
   role's realm role, outside the synced directory or the person's ``KCC_MATCH_SCOPES``, another
   strong identifier).
4. Strong identifiers decide before names: an in-place account whose LDAP username equals the
   person's ``district_username``, or whose ``clever_sis_id`` / ``clever_student_number`` /
   ``clever_teacher_number`` equals the person's. One such account for one person: linked unless
   nobody may link it (``never``: admin power, disabled, unchecked), then the person waits
   (``refused``); names are not looked at. Two: ambiguous.
5. Otherwise first and last name are compared after ``normalize_name`` (case and diacritics
   folded). A person whose first or last name is empty matches by first and last name never.
   Clever puts most contacts' whole name in ``name.last``: a person with an empty first name and a
   last name of two or more words is compared, whole, with each account's "first last".
   The in-place accounts of the person's exact name are judged (``eligibility.judge``). Linked only
   when exactly one Clever person has that name among the new people, exactly one in-place account
   has it, and it is a ``candidate``, and no other name claims it. One person and one account
   that is ``possible``: the person waits (``possible``); ``refused`` or ``never``: waits
   (``refused``). Several people or accounts: they wait (``ambiguous``), every account listed with
   why, only those an admin may choose offered.
6. No in-place account of the exact name: the in-place accounts whose names are equal up to
   hyphens, spaces and apostrophes ("Lee Ann" / "Lee-Ann", "Garcia Lopez" / "García-López") are
   *possible* matches: the person waits with them listed, no second account is made. None at all:
   a new account (``unmatched``; ``passed_over`` says which out-of-place accounts had the name).

Nothing is guessed: a person who waits gets no account, is in none of their classes and is not
disabled anywhere until an admin answers (``plugin.sync.resolutions``). Reasons name Clever and
Keycloak ids only, never people's names: reports and logs are read by more people than the roster.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter

from mappers.eligibility import (
    CANDIDATE,
    NEVER,
    POSSIBLE,
    Candidate,
    Scope,
    Verdict,
    candidate,
    judge,
    never_why,
    out_of_place,
    strongly_identified,
)
from model.records import User
from model.state import Account
from model.text import normalize_name


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """People and accounts of one name that could not be paired one to one; ``keycloak_ids`` are
    the accounts an admin may choose, ``candidates`` every account listed, with why."""

    clever_ids: tuple[str, ...]
    keycloak_ids: tuple[str, ...]
    reason: str
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class Held:
    """One person and the accounts listed for them (refused, possible, unlinked, passed over)."""

    clever_id: str
    keycloak_ids: tuple[str, ...]  # the accounts an admin may choose
    reason: str
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    linked: Mapping[str, Account]  # clever_id → account, in Clever-id order
    unmatched: tuple[str, ...]  # clever ids no account could belong to: create an account
    ambiguous: tuple[Ambiguity, ...]
    refused: tuple[Held, ...] = field(default=())
    possible: tuple[Held, ...] = field(default=())
    unlinked: tuple[Held, ...] = field(default=())
    passed_over: tuple[Held, ...] = field(default=())  # unmatched, though out-of-place accounts had the name

    @property
    def waiting(self) -> frozenset[str]:
        """The Clever ids of everybody who waits for an admin."""
        held = [h.clever_id for h in (*self.refused, *self.possible, *self.unlinked)]
        return frozenset(held + [c for a in self.ambiguous for c in a.clever_ids])


def name_key(first: str, last: str) -> tuple[str, str] | None:
    key = (normalize_name(first), normalize_name(last))
    return key if all(key) else None


_LOOSE = re.compile(r"[\s'-]+")


def loose_key(key: tuple[str, str]) -> tuple[str, str]:
    """A name key without hyphens, spaces and apostrophes: what a *possible* match shares."""
    return (_LOOSE.sub("", key[0]), _LOOSE.sub("", key[1]))


def _whole_key(first: str, last: str) -> tuple[str, str] | None:
    """("", "first last"): a whole name in ``name.last`` (rule 5), or an account's "first last"."""
    whole = normalize_name(f"{first} {last}")
    return ("", whole) if " " in whole else None


def person_key(person: User) -> tuple[str, str] | None:
    """The key a person is matched by name under (rule 5): first and last, or a whole name (an empty
    first name and a last name of two words or more, compared as an account's "first last")."""
    first, last = normalize_name(person.first_name), normalize_name(person.last_name)
    if first and last:
        return first, last
    return ("", last) if not first and " " in last else None


def account_keys(account: Account) -> set[tuple[str, str]]:
    """The keys an account answers to by name: its first and last name, and its "first last"."""
    key = name_key(account.first_name, account.last_name)
    whole = _whole_key(account.first_name, account.last_name) if key else None
    return {k for k in (key, whole) if k}


@dataclass(slots=True)
class _Match:
    """The working state of one ``match_by_name``."""

    people: dict[str, User]
    scope: Scope
    by_name: defaultdict[tuple[str, str], list[Account]] = field(default_factory=lambda: defaultdict(list))
    by_loose: defaultdict[tuple[str, str], list[Account]] = field(default_factory=lambda: defaultdict(list))
    linked: dict[str, Account] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    refused: list[Held] = field(default_factory=list)
    possible: list[Held] = field(default_factory=list)
    unlinked: list[Held] = field(default_factory=list)
    passed_over: list[Held] = field(default_factory=list)

    def result(self) -> MatchResult:
        by_id = attrgetter("clever_id")
        return MatchResult(
            linked=dict(sorted(self.linked.items())),
            unmatched=tuple(sorted(self.unmatched)),
            ambiguous=tuple(sorted(self.ambiguous, key=lambda a: a.clever_ids)),
            refused=tuple(sorted(self.refused, key=by_id)),
            possible=tuple(sorted(self.possible, key=by_id)),
            unlinked=tuple(sorted(self.unlinked, key=by_id)),
            passed_over=tuple(sorted(self.passed_over, key=by_id)),
        )


def _held(clever_id: str, listed: Iterable[tuple[Account, Verdict]], reason: str) -> Held:
    candidates = tuple(candidate(account, verdict.why) for account, verdict in listed)
    return Held(clever_id, tuple(c.keycloak_id for c in candidates if c.linkable), reason, candidates)


def match_by_name(
    people: Iterable[User], accounts: Iterable[Account], scope: Scope | None = None
) -> MatchResult:
    """Pair Clever people with existing accounts (rules in the module doc)."""
    match = _Match({p.clever_id: p for p in reversed(list(people))}, scope or Scope())  # first one wins
    account_list = sorted(accounts, key=lambda a: a.keycloak_id)
    by_link, by_carried = _index(match, account_list)
    people_by_name: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    strong: dict[str, list[Account]] = {}
    for clever_id in sorted(match.people):
        if _by_link(match, clever_id, by_link.get(clever_id, []), by_carried.get(clever_id, [])):
            continue
        person = match.people[clever_id]
        if found := [
            a
            for a in account_list
            if not a.linked_clever_id
            and strongly_identified(person, a)
            and not out_of_place(person, a, match.scope)
        ]:
            strong[clever_id] = found
        elif key := person_key(person):
            people_by_name[key].append(clever_id)
        else:
            match.unmatched.append(clever_id)

    taken = _strong_links(match, strong)
    # An account some person's name and another's whole name would both claim: link neither.
    name_claims = Counter(
        a.keycloak_id
        for key in people_by_name
        for a in match.by_name.get(key, ())
        if a.keycloak_id not in taken
    )
    for key, clever_ids in people_by_name.items():
        _name_group(match, key, clever_ids, taken, name_claims)
    return match.result()


def _index(
    match: _Match, accounts: list[Account]
) -> tuple[dict[str, list[Account]], dict[str, list[Account]]]:
    """The accounts by name (into ``match``), by the Clever id linked to them, by the one they carry."""
    by_link: defaultdict[str, list[Account]] = defaultdict(list)
    by_carried: defaultdict[str, list[Account]] = defaultdict(list)
    for account in accounts:
        if account.linked_clever_id:
            by_link[account.linked_clever_id].append(account)
        elif account.carried_clever_id:
            by_carried[account.carried_clever_id].append(account)
        for known in account_keys(account):
            match.by_name[known].append(account)
            match.by_loose[loose_key(known)].append(account)
    return by_link, by_carried


def _by_link(match: _Match, clever_id: str, already: list[Account], carried: list[Account]) -> bool:
    """Rules 1 and 2: a person an account is linked to, or was until an unlink; True when decided."""
    if len(already) == 1:
        match.linked[clever_id] = already[0]
    elif already:
        ids = tuple(a.keycloak_id for a in already)
        match.ambiguous.append(Ambiguity((clever_id,), ids, "several accounts are linked to this Clever id"))
    elif carried:
        why = "carries this person's clever_id, but the Clever link was removed from it"
        reason = "an account of theirs was unlinked: no link and no new account until an admin chooses"
        match.unlinked.append(_held(clever_id, [(a, Verdict(POSSIBLE, why)) for a in carried], reason))
    return bool(already or carried)


def _strong_links(match: _Match, strong: Mapping[str, list[Account]]) -> set[str]:
    """Rule 4: link (or hold) the people an identifier found; the Keycloak ids those took."""
    claims: defaultdict[str, list[str]] = defaultdict(list)
    for clever_id, found in strong.items():
        for account in found:
            claims[account.keycloak_id].append(clever_id)
    for clever_id, found in strong.items():
        shared = sorted({c for a in found for c in claims[a.keycloak_id]})
        if len(found) > 1 or len(shared) > 1:
            if clever_id == shared[0]:
                ids = tuple(sorted({a.keycloak_id for c in shared for a in strong[c]}))
                match.ambiguous.append(
                    Ambiguity(tuple(shared), ids, "an identifier is shared (SIS id or username)")
                )
        elif why := never_why(found[0]):
            reason = f"same identifier, not linkable: account {found[0].keycloak_id} {why}"
            match.refused.append(_held(clever_id, [(found[0], Verdict(NEVER, why))], reason))
        else:
            match.linked[clever_id] = found[0]
    return {a.keycloak_id for found in strong.values() for a in found}


def _name_group(
    match: _Match, key: tuple[str, str], clever_ids: list[str], taken: set[str], claims: Counter[str]
) -> None:
    """Rules 5 and 6 for the new people of one name."""
    exact = [a for a in match.by_name.get(key, []) if a.keycloak_id not in taken]
    listed = _in_place(match, clever_ids, exact, exact=True)
    if not listed:
        near = [a for a in match.by_loose.get(loose_key(key), []) if a.keycloak_id not in taken]
        seen = {a.keycloak_id for a in exact}
        near = list({a.keycloak_id: a for a in near if a.keycloak_id not in seen}.values())
        listed = _in_place(match, clever_ids, near, exact=False)
    if not listed:
        match.unmatched.extend(clever_ids)
        if exact:
            first = match.people[clever_ids[0]]
            reasons = [f"account {a.keycloak_id} {out_of_place(first, a, match.scope)}" for a in exact]
            reason = "new account made; same name, not this person's: " + "; ".join(reasons)
            match.passed_over.extend(Held(c, (), reason) for c in clever_ids)
        return
    if len(clever_ids) == 1 and len(listed) == 1 and _one_to_one(match, clever_ids[0], listed, claims):
        return
    held = _held(clever_ids[0], listed, "")
    count = len(held.candidates)
    people = f"{len(clever_ids)} Clever {'person' if len(clever_ids) == 1 else 'people'}"
    reason = f"{people} and {count} account{'' if count == 1 else 's'} share this name"
    match.ambiguous.append(Ambiguity(tuple(clever_ids), held.keycloak_ids, reason, held.candidates))


def _one_to_one(
    match: _Match, clever_id: str, listed: list[tuple[Account, Verdict]], claims: Counter[str]
) -> bool:
    """One person, one account of their name: linked, or they wait (possible, refused); False when
    another name claims the account too (ambiguous)."""
    account, verdict = listed[0]
    if verdict.level == CANDIDATE and claims[account.keycloak_id] == 1:
        match.linked[clever_id] = account
    elif verdict.level == POSSIBLE:
        reason = f"possible match: account {account.keycloak_id} {verdict.why}"
        match.possible.append(_held(clever_id, listed, reason))
    elif verdict.level != CANDIDATE:
        reason = f"same name, not linked: account {account.keycloak_id} {verdict.why}"
        match.refused.append(_held(clever_id, listed, reason))
    else:
        return False
    return True


def _in_place(
    match: _Match, clever_ids: list[str], accounts: list[Account], *, exact: bool
) -> list[tuple[Account, Verdict]]:
    """The accounts in place for at least one of the people, judged for the first of those."""
    found: list[tuple[Account, Verdict]] = []
    for account in accounts:
        scope = match.scope
        placed = (match.people[c] for c in clever_ids if not out_of_place(match.people[c], account, scope))
        person = next(placed, None)
        if person is not None:
            found.append((account, judge(person, account, match.scope, exact=exact)))
    return found


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
