"""Whether one existing account may be one Clever person's, and why not (``mappers.names`` pairs them).

Settings: ``KCC_MATCH_SCOPES`` (``Scope.bases``), ``KCC_LDAP_PEOPLE_DN`` (``Scope.ldap_dn``) and
``KCC_ADMIN_RUN_NAME_PROVIDERS`` or the page's option (``Scope.admin_run_names``). Example::

    scope = Scope({"teacher": ("ou=teachers,dc=example,dc=org",)}, "dc=example,dc=org", frozenset({"google"}))
    out_of_place(person, account, scope)         # "" or why the account is another kind of person's
    judge(person, account, scope, exact=True)    # Verdict("candidate", "same name; holds nothing ...")

Deny by default. An account of a person's name is, for that person, one of:

* ``never``: not checked (no connection), admin power in the realm (``connectors.keycloak_vet``), or
  disabled. Never linked, not even by an admin's choice.
* ``refused``: it holds something beyond the realm's default roles and groups and the ``clever-*``
  realm role of the person's own Clever role ("holds realm role staff", "is in group /Teachers-Old"),
  and no ``KCC_MATCH_SCOPES`` base of the person's role holds it; or its user can edit its names.
  The person waits; an admin may still choose it.
* ``possible``: its name equals the person's only up to hyphens, spaces and apostrophes; or another
  identity provider writes its names at every login and the district has not marked that
  provider's names as admin-run; or the person is a Clever student and the account is not known
  as a student account (no ``clever-student`` role, no student base in ``KCC_MATCH_SCOPES``). The
  person waits; an admin confirms, one by one or by a rule (``plugin.sync.resolutions.rules``).
* ``candidate``: none of the above; linked when the name is unique on both sides.

Words name Keycloak roles, groups, providers and DNs' places, never people's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from model.records import Role, User
from model.state import REALM_ROLES, Account

NEVER, REFUSED, POSSIBLE, CANDIDATE = "never", "refused", "possible", "candidate"
CLEVER_REALM_ROLES = frozenset(REALM_ROLES.values())
# (account attribute, Clever ``User`` field): identifiers that decide, and contradict, a match.
_STRONG: tuple[tuple[str, str], ...] = (
    ("clever_sis_id", "sis_id"),
    ("clever_student_number", "student_number"),
    ("clever_teacher_number", "teacher_number"),
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the district keeps each Clever role's accounts, and whose names it runs.

    ``bases``: Clever role (``student``, ``teacher``, ``staff``, ``district_admin``, ``contact``) ->
    LDAP base DNs (``ou=students,dc=example,dc=org``) or Keycloak group paths (``/Staff``). A role
    with bases matches only accounts under one of them, and they may hold more than the realm's
    defaults; an account under another role's base is out of place for every role but that one.
    ``ldap_dn``: LDAP accounts outside it (the synced people, ``KCC_LDAP_PEOPLE_DN``) are never
    candidates. ``admin_run_names``: aliases of identity providers whose names the district runs
    (``KCC_ADMIN_RUN_NAME_PROVIDERS``). Example::

        Scope({"student": ("ou=students,dc=example,dc=org",), "staff": ("/Staff",)}, "dc=example,dc=org")
    """

    bases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ldap_dn: str = ""
    admin_run_names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an account is for one person (``NEVER``, ``REFUSED``, ``POSSIBLE``, ``CANDIDATE``), and why."""

    level: str
    why: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An account listed for a waiting person: why it is listed, whether an admin may choose it,
    and where it comes from (``source``: ``local``, ``ldap`` or a provider's alias; ``base``: the
    DN its LDAP entry sits under), what it holds beyond the defaults."""

    keycloak_id: str
    why: str
    linkable: bool = True
    source: str = "local"
    base: str = ""
    holds: tuple[str, ...] = ()


def candidate(account: Account, why: str) -> Candidate:
    """``account`` as a waiting person's page lists it."""
    base = _dn(account.ldap_dn).partition(",")[2] if account.source == "ldap" else ""
    return Candidate(account.keycloak_id, why, not never_why(account), account.source, base, account.holds)


def _dn(text: str) -> str:
    return ",".join(part.strip() for part in text.casefold().split(","))


def within(account: Account, base: str) -> bool:
    """Whether ``account`` sits under ``base`` (an LDAP DN, or a group path: subgroups count)."""
    if base.startswith("/"):
        return any(path == base or path.startswith(base.rstrip("/") + "/") for path in account.groups)
    dn, wanted = _dn(account.ldap_dn), _dn(base)
    return bool(dn) and (dn == wanted or dn.endswith("," + wanted))


def out_of_place(person: User, account: Account, scope: Scope) -> str:
    """Why ``account`` is some other kind of person's, never a candidate for ``person``, or ""."""
    if account.linked_clever_id and account.linked_clever_id != person.clever_id:
        return f"is linked to Clever id {account.linked_clever_id}"
    if account.carried_clever_id and account.carried_clever_id != person.clever_id:
        return f"carries Clever id {account.carried_clever_id} (an earlier link was removed)"
    theirs = {REALM_ROLES[role] for role in person.roles if role in REALM_ROLES}
    other = sorted((account.realm_roles & CLEVER_REALM_ROLES) - theirs)
    if other:
        return f"holds realm role {other[0]} (another Clever role)"
    if account.source == "ldap" and scope.ldap_dn and not within(account, scope.ldap_dn):
        return "is outside the synced directory (KCC_LDAP_PEOPLE_DN)"
    if why := _elsewhere(person, account, scope):
        return why
    for name, value in _strong_pairs(account, person):
        if value[0] and value[1] and value[0] != value[1]:
            return f"carries another {name}"
    return ""


def _elsewhere(person: User, account: Account, scope: Scope) -> str:
    """Why ``KCC_MATCH_SCOPES`` puts ``account`` away from ``person``'s Clever roles, or ""."""
    roles = {role.value for role in person.roles}
    mine = [base for role in roles for base in scope.bases.get(role, ())]
    if any(within(account, base) for base in mine):
        return ""
    if mine:
        return "is outside where the district keeps this Clever role (KCC_MATCH_SCOPES)"
    for role, bases in scope.bases.items():
        if role not in roles and any(within(account, base) for base in bases):
            return f"is where the district keeps Clever role {role} (KCC_MATCH_SCOPES)"
    return ""


def _strong_pairs(account: Account, person: User) -> list[tuple[str, tuple[str, str]]]:
    held = dict(account.strong_ids)
    return [(name, (held.get(name, ""), str(getattr(person, field_)))) for name, field_ in _STRONG]


def strongly_identified(person: User, account: Account) -> bool:
    """An identifier both sides carry, and equal: the LDAP username is the person's district
    username, or a ``clever_sis_id`` / ``clever_student_number`` / ``clever_teacher_number``."""
    username = person.district_username.strip().casefold()
    if username and account.source == "ldap" and account.username.casefold() == username:
        return True
    return any(mine and mine == theirs for _, (mine, theirs) in _strong_pairs(account, person))


def never_why(account: Account) -> str:
    """Why nobody, not even an admin's choice, may link ``account``; or ""."""
    if not account.vetted:
        return "could not be checked for admin rights"
    if account.is_admin:
        return "has admin or management rights in the realm"
    if not account.enabled:
        return "is disabled"
    return ""


def extras(person: User, account: Account) -> tuple[str, ...]:
    """What ``account`` holds beyond the defaults and the realm role of ``person``'s own Clever role."""
    own = {f"realm role {REALM_ROLES[role]}" for role in person.roles if role in REALM_ROLES}
    return tuple(held for held in account.holds if held not in own)


def holding_words(held: tuple[str, ...]) -> str:
    """ "holds realm role staff, is in group /Teachers-Old" """
    return ", ".join(f"is in {h}" if h.startswith("group ") else f"holds {h}" for h in held)


def scoped(person: User, account: Account, scope: Scope) -> bool:
    """Whether a ``KCC_MATCH_SCOPES`` base of one of ``person``'s roles holds ``account``."""
    return any(within(account, base) for role in person.roles for base in scope.bases.get(role.value, ()))


def judge(person: User, account: Account, scope: Scope, *, exact: bool = True) -> Verdict:
    """What an in-place account of ``person``'s name (``exact``) or near name is for them."""
    if why := never_why(account):
        return Verdict(NEVER, why)
    placed = scoped(person, account, scope)
    beyond = extras(person, account)
    if beyond and not placed:
        return Verdict(REFUSED, holding_words(beyond))
    if account.names_editable:
        return Verdict(REFUSED, "has names its user can edit (User Profile)")
    doubts = []
    if not exact:
        doubts.append("its name differs from this person's only in hyphens, spaces or apostrophes")
    if rewritten := [alias for alias in account.names_from if alias not in scope.admin_run_names]:
        doubts.append(
            f"its names come from identity provider {rewritten[0]}, which rewrites them at every login "
            "(not marked as run by the district)"
        )
    if person.has(Role.STUDENT) and not _known_student(account, scope):
        doubts.append(
            "is not known as a student account (no clever-student role, no student KCC_MATCH_SCOPES)"
        )
    if doubts:
        return Verdict(POSSIBLE, "; ".join(doubts))
    if placed:
        return Verdict(CANDIDATE, "same name; KCC_MATCH_SCOPES places it with this Clever role")
    return Verdict(CANDIDATE, "same name; holds nothing beyond the realm's defaults")


def _known_student(account: Account, scope: Scope) -> bool:
    return REALM_ROLES[Role.STUDENT] in account.realm_roles or any(
        within(account, base) for base in scope.bases.get(Role.STUDENT.value, ())
    )
