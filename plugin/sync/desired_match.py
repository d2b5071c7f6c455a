"""Match Users By Name, as the map stage runs it: which accounts are read (and checked), and the
admin's resolutions applied (``plugin.sync.resolutions``; the rules are ``mappers.names``')."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from mappers.eligibility import Scope, never_why
from mappers.names import Ambiguity, Held, MatchResult, account_keys, loose_key, match_by_name, person_key
from model.records import User
from model.state import Account
from plugin.config.settings import SyncOptions
from plugin.sync.resolutions import CREATE

# The waiting list's kind of each way a person waits (``plugin.runs.standing.WAITING_KINDS``).
REFUSED, POSSIBLE, UNLINKED = "refused-link", "possible-match", "unlinked"
Accounts = Iterable[Account] | Callable[[Callable[[Account], bool]], Iterable[Account]]


@dataclass(slots=True)
class NameMatch:
    """What Match Users By Name decided for a run's new people, the admin's choices applied."""

    linked: dict[str, Account] = field(default_factory=dict)  # Clever id -> account (by name or admin)
    by_admin: set[str] = field(default_factory=set)  # Clever ids linked by an admin's choice
    held: set[str] = field(default_factory=set)  # Clever ids who wait for an admin
    ambiguous: list[Ambiguity] = field(default_factory=list)
    waiting: dict[str, list[Held]] = field(default_factory=dict)  # REFUSED/POSSIBLE/UNLINKED -> people
    passed_over: list[Held] = field(default_factory=list)  # new accounts made beside namesakes


def match_people(
    new_people: list[User],
    accounts: Accounts,
    resolutions: Mapping[str, str],
    scope: Scope,
    resolved: set[str],
    warnings: list[str],
) -> NameMatch:
    """Match ``new_people``, apply the admin's choices (``resolved`` gets the Clever ids whose
    choice this run applies), and leave out of every list the people an admin has answered."""
    result, pool = match_new_people(new_people, accounts, resolutions, scope)
    chosen = resolved_choices(new_people, result, pool, resolutions, resolved, warnings)
    ambiguous = [
        replace(a, clever_ids=tuple(c for c in a.clever_ids if c not in resolved))
        for a in result.ambiguous
        if not set(a.clever_ids) <= resolved
    ]
    lists = ((REFUSED, result.refused), (POSSIBLE, result.possible), (UNLINKED, result.unlinked))
    return NameMatch(
        linked={k: v for k, v in result.linked.items() if k not in resolved} | chosen,
        by_admin=set(chosen),
        held=set(result.waiting - resolved),
        ambiguous=ambiguous,
        waiting={kind: [h for h in found if h.clever_id not in resolved] for kind, found in lists},
        passed_over=list(result.passed_over),
    )


def match_new_people(
    new_people: list[User],
    accounts: Accounts,
    resolutions: Mapping[str, str],
    scope: Scope,
) -> tuple[MatchResult, dict[str, Account]]:
    """The match over the accounts new people could match: their names and near names, district
    usernames, their Clever ids left on unlinked accounts, or the accounts an admin chose (only
    those are read from Keycloak and checked: few, and costly to check)."""
    keys = {key for p in new_people if (key := person_key(p))}
    loose = {loose_key(key) for key in keys}
    logins = {p.district_username.strip().casefold() for p in new_people if p.district_username.strip()}
    ids = {p.clever_id for p in new_people}
    chosen = {resolutions[p.clever_id] for p in new_people if p.clever_id in resolutions} - {CREATE}

    def wanted(account: Account) -> bool:
        names = account_keys(account)
        return (
            account.keycloak_id in chosen
            or account.carried_clever_id in ids
            or account.username.casefold() in logins
            or not names.isdisjoint(keys)
            or not {loose_key(key) for key in names}.isdisjoint(loose)
        )

    if callable(accounts):
        pool = list(accounts(wanted))
    else:
        pool = [account for account in accounts if wanted(account)]
    return match_by_name(new_people, pool, scope), {a.keycloak_id: a for a in pool}


def offered(result: MatchResult) -> dict[str, tuple[str, ...]]:
    """Clever id -> the accounts an admin may choose for that waiting person."""
    found = {c: a.keycloak_ids for a in result.ambiguous for c in a.clever_ids}
    for held in (*result.refused, *result.possible, *result.unlinked):
        found[held.clever_id] = held.keycloak_ids
    return found


def resolved_choices(
    new_people: list[User],
    result: MatchResult,
    pool: Mapping[str, Account],
    resolutions: Mapping[str, str],
    resolved: set[str],
    warnings: list[str],
) -> dict[str, Account]:
    """The admin's choices (``plugin.sync.resolutions``) that still hold: "create a new account", or one
    of the accounts this run lists for that waiting person (so an account that became an admin, was
    linked or disabled since, is refused). Anything else: a warning."""
    choices = offered(result)
    chosen: dict[str, Account] = {}
    for person in new_people:
        choice = resolutions.get(person.clever_id)
        if choice is None:
            continue
        account = pool.get(choice)
        if choice == CREATE:
            resolved.add(person.clever_id)
        elif (
            choice in (*choices.get(person.clever_id, ()), *_linked_id(result, person.clever_id))
            and account is not None
            and not never_why(account)
            and choice not in {a.keycloak_id for a in chosen.values()}
        ):
            chosen[person.clever_id] = account
            resolved.add(person.clever_id)
        else:
            warnings.append(
                f"{person.clever_id}: the chosen account {choice} is not one of this person's candidates "
                "any more (gone, disabled, an admin, linked, or out of place): choose again"
            )
    return chosen


def _linked_id(result: MatchResult, clever_id: str) -> tuple[str, ...]:
    account = result.linked.get(clever_id)
    return (account.keycloak_id,) if account else ()


def match_scope(options: SyncOptions, people_dn: str) -> Scope:
    """Where the district keeps each Clever role (``KCC_MATCH_SCOPES``), its LDAP people, and the
    identity providers whose names it runs (``KCC_ADMIN_RUN_NAME_PROVIDERS`` or the page)."""
    return Scope(dict(options.match_scopes), people_dn, frozenset(options.admin_run_name_providers))
