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
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_people import ldap_providers
from connectors.keycloak_read import KeycloakState, owners, read_accounts, read_links, read_tree
from connectors.keycloak_rows import user_reps
from connectors.keycloak_scope import read_accounts_of, read_member_lists, read_people
from connectors.ldap import LdapDirectory
from mappers.people import may_get_account
from model.records import Section
from model.state import Account, CurrentUser, DirectoryState, LdapGroup
from plugin.sync.applied import Applied
from plugin.sync.snapshot import Snapshot, people_of

Scoped = tuple[KeycloakState, dict[str, LdapGroup], dict[str, CurrentUser], dict[str, str]]


def read_scoped(
    keycloak: KeycloakDirectory, ldap: LdapDirectory, snapshot: Snapshot, applied: Applied, parents: bool
) -> Scoped:
    """(the realm as the scope needs it, the LDAP groups, owned accounts the memory did not hold,
    remembered people whose account owns nothing now): see the module doc. ``parents``: Sync
    Parent Data (without it a contact is nobody the sync gives an account, so not new)."""
    http, scope, workers = keycloak.http, snapshot.scope, keycloak.workers
    sections = list(snapshot.roster.sections())
    records = {user.clever_id: user for user in snapshot.roster.users()}
    owned, foreign = owners(read_links(http, extension=keycloak.uses_extension(), workers=workers))
    account_of = {clever_id: keycloak_id for keycloak_id, clever_id in owned.items()}
    providers = ldap_providers(http)
    with ThreadPoolExecutor(2) as pool:
        ldap_read = pool.submit(ldap.current, _ldap_keys(snapshot, sections))
        decided = {c: account_of[c] for c in scope.people if c in account_of}
        people_read = pool.submit(read_people, http, decided, providers, workers)
        groups, root_id = read_tree(http, keycloak.root_name, workers, {s.school for s in sections})
        lists, members_of_lists = read_member_lists(
            http, groups, scope.member_lists, owned, providers, workers
        )
        users, members, their_groups = people_read.result()
        ldap_groups = ldap_read.result()
    for key, group in their_groups.items():
        groups.setdefault(key, group)  # a class of another school they are still in
    joining = _joining(sections, scope.member_lists, account_of, lists)
    context = {**members_of_lists, **read_accounts_of(http, joining, providers, workers)}
    membership = {key: frozenset(ids) for key, ids in members.items()} | lists
    directory = DirectoryState(groups=groups, users={**context, **users}, members=membership)
    state = KeycloakState(directory, root_id=root_id, http=http, suspicious=foreign)
    new = [c for c in scope.people if c in records and c not in account_of]
    if any(may_get_account(records[c], parents) for c in new):  # somebody the map may give an account
        reps = user_reps(http, extension=keycloak.uses_extension())
        _, state.accounts, state.usernames, _ = read_accounts(reps, owned, foreign, providers)
    keycloak.group_ids = {key: group.keycloak_id for key, group in groups.items()}
    remembered = applied.keycloak_ids(scope.people)
    found = {cid: user for cid, user in users.items() if remembered.get(cid) != user.keycloak_id}
    return state, ldap_groups, found, _lost(remembered, account_of, state.accounts)


def _joining(
    sections: list[Section],
    member_lists: frozenset[str],
    account_of: dict[str, str],
    lists: dict[str, frozenset[str]],
) -> dict[str, str]:
    """The accounts (Clever id -> Keycloak id) of the people the classes decided in full list and
    do not hold yet (those they hold came with their member lists)."""
    holding = {keycloak_id for ids in lists.values() for keycloak_id in ids}
    listed = {c for s in sections if f"section:{s.clever_id}" in member_lists for c in people_of(s)}
    return {c: account_of[c] for c in listed if c in account_of and account_of[c] not in holding}


def _ldap_keys(snapshot: Snapshot, sections: list[Section]) -> set[str]:
    """The LDAP groups the scope may touch: its schools' and its classes'."""
    schools = {f"school:{s.clever_id}" for s in snapshot.roster.schools()}
    return schools | {f"section:{s.clever_id}" for s in sections} | set(snapshot.scope.member_lists)


def _lost(remembered: dict[str, str], account_of: dict[str, str], accounts: list[Account]) -> dict[str, str]:
    """Decided people the memory held whose account is still in the realm but owns nothing now."""
    unowned = {account.keycloak_id for account in accounts}
    return {cid: kid for cid, kid in remembered.items() if cid not in account_of and kid in unowned}


__all__ = ["read_scoped"]
