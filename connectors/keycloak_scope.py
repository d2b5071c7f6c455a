"""Reading from Keycloak only what an incremental run's scope needs (``plugin.sync.current``): the
accounts of the people it decides with the groups each is in, and the whole member lists of the
classes it decides. Whose account is whose stays the ownership rule's answer: the caller passes
the owned links (``connectors.keycloak_read.read_links``, ``owners``), never a remembered id.

Cost: two calls a person (``GET users/{id}``, ``GET users/{id}/groups``), one a member list
(``GET groups/{id}/members``, full representations: the members' directory entries come with them),
several at a time. ``read_scope_rows`` answers the same from the clever-sync extension's rows of
just those accounts and classes (``connectors.keycloak_rows.read_rows_of``: two requests), which
the caller reads whenever the jar serves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.keycloak_people import LdapProvider, current_user
from connectors.keycloak_read import MEMBER_PAGE
from connectors.keycloak_rows import RealmRows, user_rep
from connectors.pooling import bounded_map
from model.state import CurrentGroup, CurrentUser, PackedAttributes

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

GROUP_PAGE = 1000  # a person's groups: one page


def read_people(
    http: KeycloakHttp, owned: Mapping[str, str], providers: Mapping[str, LdapProvider], workers: int
) -> tuple[dict[str, CurrentUser], dict[str, set[str]], dict[str, CurrentGroup]]:
    """The accounts ``owned`` names (Clever id -> Keycloak id) in full: (each person's account, group
    key -> the Keycloak ids of these people in it, the groups they are in by key)."""

    def one(item: tuple[str, str]) -> tuple[CurrentUser | None, list[dict[str, Any]]]:
        user = _account(http, *item, providers)
        if user is None:
            return None, []
        path = f"users/{user.keycloak_id}/groups"
        return user, list(http.pages(path, GROUP_PAGE, briefRepresentation="false"))

    items = sorted(owned.items())
    users: dict[str, CurrentUser] = {}
    members: dict[str, set[str]] = {}
    groups: dict[str, CurrentGroup] = {}
    for user, listed in bounded_map(one, items, workers if len(items) > 1 else 1):
        if user is None:
            continue
        users[user.clever_id] = user
        for group in _keyed(listed):
            members.setdefault(group.key, set()).add(user.keycloak_id)
            groups.setdefault(group.key, group)
    return users, members, groups


def read_member_lists(
    http: KeycloakHttp,
    groups: Mapping[str, CurrentGroup],
    keys: Iterable[str],
    owner_of: Mapping[str, str],
    providers: Mapping[str, LdapProvider],
    workers: int,
) -> tuple[dict[str, frozenset[str]], dict[str, CurrentUser]]:
    """The whole member lists of the groups ``keys`` (those that exist), and the members' accounts
    by Clever id (``owner_of``: Keycloak id -> the Clever id that owns it; other members are
    listed by Keycloak id only)."""
    listed = [groups[key] for key in sorted(set(keys)) if key in groups]

    def one(group: CurrentGroup) -> tuple[str, list[dict[str, Any]]]:
        path = f"groups/{group.keycloak_id}/members"
        return group.key, list(http.pages(path, MEMBER_PAGE, briefRepresentation="false"))

    members: dict[str, frozenset[str]] = {}
    users: dict[str, CurrentUser] = {}
    for key, reps in bounded_map(one, listed, workers if len(listed) > 1 else 1):
        members[key] = frozenset(rep["id"] for rep in reps)
        for rep in reps:
            if owner := owner_of.get(rep["id"]):
                users[owner] = current_user(rep, owner, _attributes(rep), providers)
    return members, users


def read_accounts_of(
    http: KeycloakHttp, owned: Mapping[str, str], providers: Mapping[str, LdapProvider], workers: int
) -> dict[str, CurrentUser]:
    """The accounts ``owned`` names (Clever id -> Keycloak id), without their groups (one call each)."""

    def one(item: tuple[str, str]) -> CurrentUser | None:
        return _account(http, *item, providers)

    items = sorted(owned.items())
    found = bounded_map(one, items, workers if len(items) > 1 else 1)
    return {user.clever_id: user for user in found if user is not None}


@dataclass(frozen=True, slots=True)
class Asked:
    """What an incremental run reads of the realm: the decided people's accounts (Clever id ->
    Keycloak id), the groups whose whole member lists it decides, the owned links (Keycloak id ->
    Clever id) and the accounts of the people the classes it decides in full list (Clever id ->
    Keycloak id)."""

    decided: Mapping[str, str]
    lists: frozenset[str]
    owner_of: Mapping[str, str]
    listed: Mapping[str, str]


def read_scope_rows(
    rows: RealmRows, asked: Asked, providers: Mapping[str, LdapProvider]
) -> tuple[dict[str, CurrentUser], dict[str, set[str]], dict[str, frozenset[str]], dict[str, CurrentUser]]:
    """What ``read_people``, ``read_member_lists`` and ``read_accounts_of`` (of ``asked.listed``)
    answer together, from the extension's rows (``connectors.keycloak_rows.read_rows_of``): (the
    decided people's accounts, group key -> the decided people's Keycloak ids in it, the member
    lists, the accounts of the lists' owned members and of the listed people)."""
    groups, by_group = rows.groups, rows.members
    lists = {
        key: frozenset(by_group.get(groups[key].keycloak_id, ())) for key in asked.lists if key in groups
    }
    decided_ids = {keycloak_id: clever_id for clever_id, keycloak_id in asked.decided.items()}
    wanted = {keycloak_id: clever_id for clever_id, keycloak_id in asked.listed.items()}
    wanted.update((i, asked.owner_of[i]) for ids in lists.values() for i in ids if i in asked.owner_of)
    wanted.update(decided_ids)
    accounts: dict[str, CurrentUser] = {}
    for row in rows.users:
        if clever_id := wanted.get(row[0]):
            rep = user_rep(row)
            accounts[clever_id] = current_user(rep, clever_id, _attributes(rep), providers)
    found = {keycloak_id for keycloak_id, clever_id in decided_ids.items() if clever_id in accounts}
    members: dict[str, set[str]] = {}
    for key, group in groups.items():
        if key != "root" and (mine := by_group.get(group.keycloak_id, set()) & found):
            members[key] = mine
    users = {clever_id: accounts[clever_id] for clever_id in asked.decided if clever_id in accounts}
    context = {clever_id: user for clever_id, user in accounts.items() if clever_id not in users}
    return users, members, lists, context


def _account(
    http: KeycloakHttp, clever_id: str, keycloak_id: str, providers: Mapping[str, LdapProvider]
) -> CurrentUser | None:
    response = http.call("GET", f"users/{keycloak_id}", ok=(404,), userProfileMetadata="false")
    if response.status_code == 404:
        return None  # gone since the links were read
    rep = response.json()
    return current_user(rep, clever_id, _attributes(rep), providers)


def _attributes(rep: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}


def _keyed(listed: Iterable[Mapping[str, Any]]) -> Iterable[CurrentGroup]:
    """The sync's groups among a person's groups (those carrying a ``clever_key``)."""
    for rep in listed:
        attributes = PackedAttributes(rep.get("attributes") or {})
        key = (attributes.get("clever_key") or ("",))[0]
        if key:
            yield CurrentGroup(rep["id"], key, rep["name"], rep.get("parentId"), attributes)
