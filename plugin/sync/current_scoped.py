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

Two ways to read the same: a call of the admin REST API at a time (several at once), or, with the
clever-sync extension, its rows (``connectors.keycloak_rows.read_realm_rows``: the whole
``/Clever`` tree, every membership under it and every account, a few queries a page; what the
scope needs is kept). The calls cost with the number of people and classes the run decides, the
rows with the district's size: ``rows_cheaper`` picks by both, from the events alone, so that the
rows are read while Clever's records are (``plugin.sync.planner``; at 10,000 students the rows
from about a hundred calls on: the 1 % incremental run read Keycloak for 30 s a call at a time,
about 2 s as rows, beside Clever's 4 s). The report's preview says which (``keycloak_read_by``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_people import LdapProvider, ldap_providers
from connectors.keycloak_read import KeycloakState, owners, read_accounts, read_links, read_tree
from connectors.keycloak_rows import RealmRows, user_rep, user_reps
from connectors.keycloak_scope import Asked, read_accounts_of, read_member_lists, read_people, read_scope_rows
from connectors.ldap import LdapDirectory
from mappers.people import may_get_account
from model.records import Section
from model.state import Account, CurrentGroup, CurrentUser, DirectoryState, LdapGroup
from plugin.sync.applied import Applied
from plugin.sync.brake import people_total
from plugin.sync.snapshot import Snapshot, people_of

Scoped = tuple[KeycloakState, dict[str, LdapGroup], dict[str, CurrentUser], dict[str, str], str]


def read_scoped(
    keycloak: KeycloakDirectory,
    ldap: LdapDirectory,
    snapshot: Snapshot,
    applied: Applied,
    parents: bool,
    rows: Future[RealmRows] | None = None,
) -> Scoped:
    """(the realm as the scope needs it, the LDAP groups, owned accounts the memory did not hold,
    remembered people whose account owns nothing now, how Keycloak was read: ``rows`` or
    ``calls``): see the module doc. ``parents``: Sync Parent Data (without it a contact is nobody
    the sync gives an account, so not new). ``rows``: the realm's rows, being read since the
    events came (``rows_cheaper``); without them, a call at a time."""
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
        if rows is not None:
            read = _by_rows(keycloak, rows, asked, providers)
        else:
            read = _by_calls(keycloak, asked, providers, {s.school for s in sections})
        ldap_groups = ldap_read.result()
    groups, users = read.groups, read.users
    membership = {key: frozenset(ids) for key, ids in read.members.items()} | read.lists
    directory = DirectoryState(groups=groups, users={**read.context, **users}, members=membership)
    state = KeycloakState(directory, root_id=read.root_id, http=http, suspicious=foreign)
    new = [c for c in scope.people if c in records and c not in account_of]
    if any(may_get_account(records[c], parents) for c in new):  # somebody the map may give an account
        if rows is not None:  # the accounts' rows were read already
            reps: Iterable[Mapping[str, Any]] = (user_rep(row) for row in rows.result().users)
        else:
            reps = user_reps(http, extension=keycloak.uses_extension())
        _, state.accounts, state.usernames, _ = read_accounts(reps, owned, foreign, providers)
    keycloak.group_ids = {key: group.keycloak_id for key, group in groups.items()}
    remembered = applied.keycloak_ids(scope.people)
    found = {cid: user for cid, user in users.items() if remembered.get(cid) != user.keycloak_id}
    how = "rows" if rows is not None else "calls"
    return state, ldap_groups, found, _lost(remembered, account_of, state.accounts), how


# One call of the admin REST API (an account, a person's groups, a member list; four at a time)
# costs about as much as this many rows of the extension's (measured at M, 10,000 students: every
# account's row 0.8 s, every membership's 0.7 s, 150 member lists 2.3-5.8 s).
ACCOUNT_ROWS_A_CALL = 250
MEMBERSHIP_ROWS_A_CALL = 1000


def rows_cheaper(people: int, classes: int, totals: Mapping[str, int]) -> bool:
    """Whether reading every account and membership as the extension's rows costs less than the
    calls an incremental run of ``people`` and ``classes`` touched would make (two a person, one a
    class, at least), by the district's size as the last full run counted it (``totals``; none
    counted: the calls)."""
    calls = 2 * people + classes
    rows = people_total(totals) / ACCOUNT_ROWS_A_CALL + totals.get("memberships", 0) / MEMBERSHIP_ROWS_A_CALL
    return bool(totals) and calls > rows


@dataclass(slots=True)
class ScopeRead:
    """What the scope needs of Keycloak, read as rows (``_by_rows``) or as calls (``_by_calls``)."""

    groups: dict[str, CurrentGroup]  # the tree as far as the scope reaches, by clever_key
    root_id: str
    users: dict[str, CurrentUser]  # the decided people's accounts, by Clever id
    members: dict[str, set[str]]  # group key -> the decided people in it
    lists: dict[str, frozenset[str]]  # group key -> its whole member list (the listed classes)
    context: dict[str, CurrentUser]  # the other accounts read (the listed classes' people)


def _by_rows(
    keycloak: KeycloakDirectory, rows: Future[RealmRows], asked: Asked, providers: Mapping[str, LdapProvider]
) -> ScopeRead:
    """The scope's part of Keycloak from the realm's rows (the whole tree); a decided person's account
    made since the rows were read (a first login while Clever was read) is read by itself."""
    realm = rows.result()
    groups, root_id = realm.groups, realm.root_id
    users, members, lists, context = read_scope_rows(realm, asked, providers)
    late = {c: k for c, k in asked.decided.items() if c not in users}
    if late:
        more, their_members, their_groups = read_people(keycloak.http, late, providers, keycloak.workers)
        users.update(more)
        for key, ids in their_members.items():
            members.setdefault(key, set()).update(ids)
        for key, group in their_groups.items():
            groups.setdefault(key, group)
    return ScopeRead(groups, root_id, users, members, lists, context)


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
