"""Match Users By Name, as the map stage runs it: which accounts are read (and checked), and the
admin's resolutions applied (``plugin.sync.resolutions``; the rules are ``mappers.names``')."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from connectors.records import User
from connectors.state import Account
from mappers.names import MatchResult, Scope, account_keys, match_by_name, person_key, why_not
from plugin.config.settings import SyncOptions
from plugin.sync.resolutions import CREATE


def match_new_people(
    new_people: list[User],
    accounts: Iterable[Account] | Callable[..., Iterable[Account]],
    resolutions: Mapping[str, str],
    scope: Scope,
) -> tuple[MatchResult, dict[str, Account]]:
    """The match over the accounts new people could match: their names, district usernames, or the
    accounts an admin chose (only those are checked for privilege: few, and costly to check)."""
    keys = {key for p in new_people if (key := person_key(p))}
    logins = {p.district_username.strip().casefold() for p in new_people if p.district_username.strip()}
    chosen = {resolutions[p.clever_id] for p in new_people if p.clever_id in resolutions} - {CREATE}

    def wanted(account: Account) -> bool:
        return (
            account.keycloak_id in chosen
            or account.username.casefold() in logins
            or not account_keys(account).isdisjoint(keys)
        )

    if callable(accounts):
        pool = list(accounts(wanted, read_groups=scope.names_groups))
    else:
        pool = [account for account in accounts if wanted(account)]
    return match_by_name(new_people, pool, scope), {a.keycloak_id: a for a in pool}


def resolved_choices(
    new_people: list[User],
    result: MatchResult,
    pool: Mapping[str, Account],
    resolutions: Mapping[str, str],
    resolved: set[str],
    warnings: list[str],
) -> dict[str, Account]:
    """The admin's choices (``plugin.sync.resolutions``) that still hold: "create a new account", or one
    of the accounts this run's match lists as candidates of that person's ambiguity (so an account
    that became an admin, was linked or disabled since, is refused). Anything else: a warning."""
    offered = {c: a.keycloak_ids for a in result.ambiguous for c in a.clever_ids}
    chosen: dict[str, Account] = {}
    for person in new_people:
        choice = resolutions.get(person.clever_id)
        if choice is None:
            continue
        account = pool.get(choice)
        if choice == CREATE:
            resolved.add(person.clever_id)
        elif (
            choice in offered.get(person.clever_id, ())
            and account is not None
            and not why_not(account)
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


def match_scope(options: SyncOptions, people_dn: str) -> Scope:
    """Where the district keeps each Clever role (``KCC_MATCH_SCOPES``) and its LDAP people."""
    return Scope(dict(options.match_scopes), people_dn)
