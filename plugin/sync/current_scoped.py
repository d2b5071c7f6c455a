"""Keycloak and LDAP as an incremental run's scope needs them (``plugin.sync.current``).

Read, several at a time: the realm's ``clever`` links (who owns which account: the ownership
rule, ``connectors.keycloak_read.read_links``; one query with the clever-sync extension), the
``/Clever`` tree down to the class groups of the schools the snapshot's classes are in, each
decided person's account and the groups they are in, the whole member lists of the classes the
run decides in full (with their members' accounts), the accounts of the people those classes gain,
and the LDAP groups of the snapshot's schools and classes. The realm's other accounts (name-match
candidates, taken usernames) are listed only when a decided person has no account yet and may get
one (``mappers.people.may_get_account``: a contact whose student left them, without Sync Parent
Data, is not one; listing a district's realm for them made the 1 % incremental run at 10,000
students 20 times slower).

Two ways to read the same: with the clever-sync extension, its rows of just those accounts and
groups (``connectors.keycloak_rows.read_rows_of``: the tree, then a request for each 5,000 ids, a
few queries for each thousand), or without it a call of the admin REST API at a time (two a
person, one a class; several at once). The report's preview says which (``keycloak_read_by``:
``rows`` or ``calls``). Before the scoped rows, an incremental run read every account's and
membership's row while Clever was read, when that cost less than the calls: at 10,000 students
the 1 % run's Keycloak read went from about 30 s of calls to about 2 s of rows, and with the
scoped rows to two requests (the whole 1 % run 3.5-3.8 s, as fast as the old incremental run:
``bench/README.md``). When the events create somebody who may get an account, the realm's
accounts (that listing) are still read while Clever is (``read_accounts_ahead``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_people import LdapProvider, ldap_providers
from connectors.keycloak_read import KeycloakState, owners, read_accounts, read_links, read_tree
from connectors.keycloak_rows import USERS_PAGE, every_row, read_rows_of, user_rep, user_reps
from connectors.keycloak_scope import Asked, read_accounts_of, read_member_lists, read_people, read_scope_rows
from connectors.ldap import LdapDirectory
from mappers.people import may_get_account
from model.records import Section, User
from model.state import Account, CurrentGroup, CurrentUser, DirectoryState, LdapGroup
from plugin.sync.applied import Applied
from plugin.sync.snapshot import Snapshot, people_of
from plugin.sync.snapshot_events import Changes

Scoped = tuple[KeycloakState, dict[str, LdapGroup], dict[str, CurrentUser], dict[str, str], str]


def read_scoped(
    keycloak: KeycloakDirectory,
    ldap: LdapDirectory,
    snapshot: Snapshot,
    applied: Applied,
    parents: bool,
    accounts: Future[list[list[Any]] | None] | None = None,
) -> Scoped:
    """(the realm as the scope needs it, the LDAP groups, owned accounts the memory did not hold,
    remembered people whose account owns nothing now, how Keycloak was read: ``rows`` or
    ``calls``): see the module doc. ``parents``: Sync Parent Data (without it a contact is nobody
    the sync gives an account, so not new). ``accounts``: every account's row, being read since
    the events came (``read_accounts_ahead``); without them, read here when needed."""
    http, scope = keycloak.http, snapshot.scope
    sections = list(snapshot.roster.sections())
    records = {user.clever_id: user for user in snapshot.roster.users()}
    owned, foreign = owners(read_links(http, extension=keycloak.uses_extension(), workers=keycloak.workers))
    account_of = {clever_id: keycloak_id for keycloak_id, clever_id in owned.items()}
    asked = Asked(
        decided={c: account_of[c] for c in scope.people if c in account_of},
        lists=scope.member_lists,
        owner_of=owned,
        listed=_listed(sections, scope.member_lists, account_of),
    )
    providers = ldap_providers(http)
    with ThreadPoolExecutor(1) as pool:
        ldap_read = pool.submit(ldap.current, _ldap_keys(snapshot, sections))
        if keycloak.reads_scope_rows():
            read = _by_rows(keycloak, asked, providers)
        else:
            read = _by_calls(keycloak, asked, providers, {s.school for s in sections})
        ldap_groups = ldap_read.result()
    groups, users = read.groups, read.users
    membership = {key: frozenset(ids) for key, ids in read.members.items()} | read.lists
    directory = DirectoryState(groups=groups, users={**read.context, **users}, members=membership)
    state = KeycloakState(directory, root_id=read.root_id, http=http, suspicious=foreign)
    new = [c for c in scope.people if c in records and c not in account_of]
    if any(may_get_account(records[c], parents) for c in new):  # somebody the map may give an account
        ahead = accounts.result() if accounts is not None else None
        if ahead is not None:  # read while Clever was
            reps: Iterable[Mapping[str, Any]] = (user_rep(row) for row in ahead)
        else:
            reps = user_reps(http, extension=keycloak.uses_extension())
        _, state.accounts, state.usernames, _ = read_accounts(reps, owned, foreign, providers)
    keycloak.group_ids = {key: group.keycloak_id for key, group in groups.items()}
    remembered = applied.keycloak_ids(scope.people)
    found = {cid: user for cid, user in users.items() if remembered.get(cid) != user.keycloak_id}
    how = "rows" if keycloak.reads_scope_rows() else "calls"
    return state, ldap_groups, found, _lost(remembered, account_of, state.accounts), how


def read_accounts_ahead(
    keycloak: KeycloakDirectory, changes: Changes, parents: bool
) -> list[list[Any]] | None:
    """Every account's row, when the events (folded) create somebody the sync may give an account
    (the map then needs the realm's names and usernames) and the extension serves rows; else
    None. Read while Clever's records are (``plugin.sync.planner``)."""
    created = [e.record for e in changes.users.values() if e.action == "created"]
    if not keycloak.reads_scope_rows() or not any(
        isinstance(r, User) and may_get_account(r, parents) for r in created
    ):
        return None
    return list(every_row(keycloak.http, "users", USERS_PAGE))


@dataclass(slots=True)
class ScopeRead:
    """What the scope needs of Keycloak, read as rows (``_by_rows``) or as calls (``_by_calls``)."""

    groups: dict[str, CurrentGroup]  # the tree as far as the scope reaches, by clever_key
    root_id: str
    users: dict[str, CurrentUser]  # the decided people's accounts, by Clever id
    members: dict[str, set[str]]  # group key -> the decided people in it
    lists: dict[str, frozenset[str]]  # group key -> its whole member list (the listed classes)
    context: dict[str, CurrentUser]  # the other accounts read (the listed classes' people)


def _by_rows(keycloak: KeycloakDirectory, asked: Asked, providers: Mapping[str, LdapProvider]) -> ScopeRead:
    """The scope's part of Keycloak as the extension's rows of just those accounts and classes
    (the whole tree: it is one query)."""
    users = {*asked.decided.values(), *asked.listed.values()}
    rows = read_rows_of(keycloak.http, keycloak.root_name, users, asked.lists)
    found, members, lists, context = read_scope_rows(rows, asked, providers)
    return ScopeRead(rows.groups, rows.root_id, found, members, lists, context)


def _by_calls(
    keycloak: KeycloakDirectory, asked: Asked, providers: Mapping[str, LdapProvider], schools: set[str]
) -> ScopeRead:
    """The scope's part of Keycloak a call at a time (several at once): the tree down to the
    classes of ``schools`` and the classes of other schools the decided people are in."""
    http, workers = keycloak.http, keycloak.workers
    with ThreadPoolExecutor(1) as pool:
        people_read = pool.submit(read_people, http, asked.decided, providers, workers)
        groups, root_id = read_tree(http, keycloak.root_name, workers, schools)
        lists, members_of_lists = read_member_lists(
            http, groups, asked.lists, asked.owner_of, providers, workers
        )
        users, members, their_groups = people_read.result()
    for key, group in their_groups.items():
        groups.setdefault(key, group)  # a class of another school they are still in
    holding = {keycloak_id for ids in lists.values() for keycloak_id in ids}
    joining = {c: k for c, k in asked.listed.items() if k not in holding}  # the lists held the others
    context = {**members_of_lists, **read_accounts_of(http, joining, providers, workers)}
    return ScopeRead(groups, root_id, users, members, lists, context)


def _listed(
    sections: list[Section], member_lists: frozenset[str], account_of: dict[str, str]
) -> dict[str, str]:
    """The accounts (Clever id -> Keycloak id) of the people the classes decided in full list."""
    listed = {c for s in sections if f"section:{s.clever_id}" in member_lists for c in people_of(s)}
    return {c: account_of[c] for c in listed if c in account_of}


def _ldap_keys(snapshot: Snapshot, sections: list[Section]) -> set[str]:
    """The LDAP groups the scope may touch: its schools' and its classes'."""
    schools = {f"school:{s.clever_id}" for s in snapshot.roster.schools()}
    return schools | {f"section:{s.clever_id}" for s in sections} | set(snapshot.scope.member_lists)


def _lost(remembered: dict[str, str], account_of: dict[str, str], accounts: list[Account]) -> dict[str, str]:
    """Decided people the memory held whose account is still in the realm but owns nothing now."""
    unowned = {account.keycloak_id for account in accounts}
    return {cid: kid for cid, kid in remembered.items() if cid not in account_of and kid in unowned}


__all__ = ["read_scoped"]
