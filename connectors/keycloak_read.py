"""Reading the sync's scope from Keycloak: the ``/Clever`` group tree, its members and the accounts.

Cost of one read, for S schools, C classes and U users in the realm: about ``2 + 2S`` group
listings (a tree level at a time, the listings of a level in parallel) and ``2U / 500`` user pages
(full representations, and the Clever-linked ids), plus the LDAP providers. The cheap read
(``read_known``) lists users briefly, ``U / 2000`` pages read four at a time from ``users/count``
(measured on 10,000 users of Keycloak 26.5: pages of 500 one at a time 5.2 s, 1,000: 4.5 s, 2,000:
4.5 s; four at a time, 500: 3.0 s, 1,000: 2.6 s, 2,000: 2.3 s; full representations 65 s).
Member lists (``read_members``: one page each up to 1,000 members, in parallel) are
read only for the groups the caller asks for (``plugin.sync.applied`` decides which). The name match's
extra facts (Google/Microsoft links, and each candidate's effective privilege:
``connectors.keycloak_vet``) are read only when some Clever person has no account yet, and only
for the accounts that person could match (``KeycloakState.candidates(wanted)``). No ``q=``
attribute search (Keycloak cannot index it).

With the clever-sync extension, a full read takes the tree, the member lists and the accounts
(with their attributes) from its rows instead (``connectors.keycloak_rows``: two queries a page, the
no-op's read of issue 28); the REST read above stays for a Keycloak without the jar.

How a user representation reads as a person (names, read-only accounts, the LDAP providers):
``connectors.keycloak_people``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from connectors.keycloak_people import LdapProvider, current_user, ldap_providers, person_names, read_only
from connectors.keycloak_rows import read_members_rows, read_tree_rows, user_reps
from connectors.keycloak_vet import Vetter
from connectors.pooling import bounded_map
from model.ownership import owner_of_link
from model.state import IDP_ALIAS, Account, CurrentGroup, CurrentUser, DirectoryState, PackedAttributes

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

MEMBER_PAGE = 1000
LINKS_PATH = "clever-sync/links"  # the extension's listing of the realm's clever links
LINKS_PAGE = 10000
USER_PAGE = 2000  # brief user listing: pages of 2,000, several at a time (``read_known``)
NOT_READ: Mapping[str, tuple[str, ...]] = MappingProxyType({})  # a brief listing's attributes: one object


@dataclass(slots=True)
class KeycloakState:
    """One read of the realm: the managed scope plus what name matching and usernames need."""

    directory: DirectoryState
    accounts: list[Account] = field(default_factory=list)
    usernames: set[str] = field(default_factory=set)
    root_id: str = ""
    http: KeycloakHttp | None = None
    partial: bool = False  # read_known(): attributes and links not read yet
    suspicious: dict[str, str] = field(default_factory=dict)  # Keycloak id -> Clever id: links not owned
    vetter_notes: list[str] = field(default_factory=list)
    _vetter: Vetter | None = None

    def candidates(self, wanted: Callable[[Account], bool] | None = None) -> list[Account]:
        """The realm's unsynced accounts that ``wanted`` picks (every one when None), each read as
        Keycloak holds it (``connectors.keycloak_vet``: admin power, what it holds beyond the
        realm's defaults, the identity providers it is linked to). Without a connection they come
        back unchecked: never linked."""
        picked = [account for account in self.accounts if wanted is None or wanted(account)]
        if self.http is None:
            return picked
        if self._vetter is None:
            self._vetter = Vetter.read(self.http)
        self.vetter_notes = self._vetter.notes()
        return self._vetter.vet(picked)


def read_links(http: KeycloakHttp, *, extension: bool, workers: int = 4) -> dict[str, dict[str, str]]:
    """Every ``clever`` link of the realm: Keycloak id -> ``{"userId", "userName"}``, for the
    ownership rule (``model.ownership``).

    With the clever-sync extension (``extension``): its listing, one query a page of 10,000
    (``keycloak-extension``: ``LinksResource``). Without it: the linked accounts
    (``users?idpAlias=clever``), then each one's links (``users/{id}/federated-identity``),
    ``workers`` at a time: the admin REST API shows links only per account.
    """
    if extension:
        response = http.call("GET", LINKS_PATH, ok=(403, 404), first="0", max=str(LINKS_PAGE))
        if response.status_code == 200:
            return _listed_links(http, response.json())
    linked = [user["id"] for user in http.pages("users", idpAlias=IDP_ALIAS, briefRepresentation="true")]

    def one(keycloak_id: str) -> tuple[str, dict[str, str] | None]:
        found = http.call("GET", f"users/{keycloak_id}/federated-identity", ok=(404,))
        links = found.json() if found.status_code == 200 else []
        link = next((link for link in links if link.get("identityProvider") == IDP_ALIAS), None)
        return keycloak_id, link

    found = bounded_map(one, linked, workers) if linked else []
    return {
        keycloak_id: {"userId": str(link.get("userId") or ""), "userName": str(link.get("userName") or "")}
        for keycloak_id, link in found
        if link is not None
    }


def _listed_links(http: KeycloakHttp, page: dict[str, Any]) -> dict[str, dict[str, str]]:
    links: dict[str, dict[str, str]] = {}
    while True:
        for keycloak_id, user_id, user_name in page.get("links", []):
            links[keycloak_id] = {"userId": user_id, "userName": user_name}
        if "next" not in page:
            return links
        page = http.get(LINKS_PATH, first=str(page["next"]), max=str(LINKS_PAGE))


def owners(links: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The links split by the ownership rule: (Keycloak id -> the Clever id that owns the account,
    Keycloak id -> the Clever id of a link that owns nothing)."""
    owned: dict[str, str] = {}
    foreign: dict[str, str] = {}
    for keycloak_id, link in links.items():
        owner = owner_of_link({"identityProvider": IDP_ALIAS, **link})
        if owner:
            owned[keycloak_id] = owner
        else:
            foreign[keycloak_id] = link.get("userId", "")
    return owned, foreign


def read_state(
    http: KeycloakHttp,
    root_name: str,
    *,
    workers: int = 4,
    with_accounts: bool = True,
    with_members: bool = True,
    extension: bool = False,
) -> KeycloakState:
    """Read groups and users (``with_members``: every member list too); ``with_accounts`` keeps the
    accounts nobody owns as name-match candidates.

    Whose account is whose is the ownership rule's answer (``model.ownership``), read from the
    realm's ``clever`` links (``read_links``). An account with a ``clever`` link that owns nothing
    (made by a user, by an opt-out, or by hand) is left out, in ``KeycloakState.suspicious``: it
    gets nothing from Clever and is nobody's candidate. The ``clever_id`` attribute is data: an
    account that carries one without an owned link is a candidate like any other, with
    ``Account.carried_clever_id`` set (an unlink happened: ``mappers.names`` makes its person wait).

    With the clever-sync extension (``extension``) the tree, the member lists and the accounts are
    its rows (``connectors.keycloak_rows``: a few queries a page); without it, or with a jar that
    has no such endpoint, the admin REST API's listings. Both give the same state
    (``tests/integration/test_state_rows.py``)."""
    tree = read_tree_rows(http, root_name) if extension else None
    if tree is None:
        groups, root_id = read_tree(http, root_name, workers)
        members = read_members(http, groups, set(groups), workers) if with_members else {}
    else:
        groups, root_id = tree
        members = read_members_rows(http, root_name, groups) if with_members else {}
    providers = ldap_providers(http)
    owned, foreign = owners(read_links(http, extension=extension, workers=workers))
    reps = user_reps(http, extension=tree is not None)
    users, accounts, usernames, suspicious = read_accounts(reps, owned, foreign, providers)
    state = DirectoryState(groups=groups, users=users, members=members)
    return KeycloakState(state, accounts, usernames, root_id, http, suspicious=suspicious)


def read_accounts(
    reps: Iterable[Mapping[str, Any]],
    owned: Mapping[str, str],
    foreign: Mapping[str, str],
    providers: Mapping[str, LdapProvider],
) -> tuple[dict[str, CurrentUser], list[Account], set[str], dict[str, str]]:
    """Every account of the realm in full (``reps``: ``keycloak_rows.user_reps``): (the owned ones by
    Clever id, the others as name-match candidates, every username, the accounts with a link that
    owns nothing: Keycloak id -> Clever id)."""
    users: dict[str, CurrentUser] = {}
    accounts: list[Account] = []
    usernames: set[str] = set()
    suspicious: dict[str, str] = {}
    for rep in reps:
        usernames.add(rep["username"])
        attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
        federation = rep.get("federationLink") or ""
        first_name, last_name = person_names(rep, providers)
        if owner := owned.get(rep["id"]):
            users[owner] = current_user(rep, owner, attributes, providers)
        elif rep["id"] in foreign:
            suspicious[rep["id"]] = foreign[rep["id"]]  # the account gets nothing, nobody is matched to it
        else:
            accounts.append(
                Account(
                    keycloak_id=rep["id"],
                    username=rep["username"],
                    first_name=first_name,
                    last_name=last_name,
                    enabled=bool(rep.get("enabled", True)),
                    source="ldap" if federation else "local",
                    read_only=read_only(providers, federation),
                    ldap_dn=(attributes.get("LDAP_ENTRY_DN") or ("",))[0],
                    carried_clever_id=(attributes.get("clever_id") or ("",))[0],
                )
            )
    return users, accounts, usernames, suspicious


def read_known(
    http: KeycloakHttp,
    root_name: str,
    *,
    ids: Mapping[str, str],
    others: set[str],
    dns: Mapping[str, str],
    workers: int = 4,
    extension: bool = False,
) -> KeycloakState | None:
    """The cheap read: groups, the realm's ``clever`` links, and a *brief* listing of users (no
    attributes: ten times faster).

    Synced accounts are the ones the ownership rule gives (``read_links``, ``owners``), never the
    ids the last run left (``ids``: a cache); their attributes are read later, only for people whose
    wanted state changed (``read_users``). None when the realm holds an account the last run did
    not see (neither in ``ids`` nor in ``others``), a link that owns nothing, or an account the last
    run synced that nobody owns now: then only a full read tells what it is.
    """
    # The group tree is read beside the user listing: each waits on Keycloak most of its time.
    with ThreadPoolExecutor(1) as pool:
        tree = pool.submit(read_tree, http, root_name, workers)
        owned, foreign = owners(read_links(http, extension=extension, workers=workers))
        state = None
        if not foreign and set(ids.values()) <= set(owned):
            state = _read_known_users(http, owned=owned, others=others, dns=dns, workers=workers)
        groups, root_id = tree.result()
    if state is None:
        return None
    users, accounts, usernames = state
    directory = DirectoryState(groups=groups, users=users, members={})
    return KeycloakState(directory, accounts, usernames, root_id, http, partial=True)


def _read_known_users(
    http: KeycloakHttp,
    *,
    owned: Mapping[str, str],
    others: set[str],
    dns: Mapping[str, str],
    workers: int,
) -> tuple[dict[str, CurrentUser], list[Account], set[str]] | None:
    """The brief listing: owned accounts by Clever id, the others, every username; None at the
    first account that is neither owned nor one the last run saw."""
    providers = ldap_providers(http)
    total = int(http.get("users/count"))
    clever_of = owned
    users: dict[str, CurrentUser] = {}
    accounts: list[Account] = []
    usernames: set[str] = set()

    def brief(rep: dict[str, Any]) -> tuple[str, str, str, str, str, bool, str]:
        first, last = person_names(rep, providers)
        email, federation = rep.get("email") or "", rep.get("federationLink") or ""
        return rep["id"], rep["username"], first, last, email, bool(rep.get("enabled", True)), federation

    # Each representation is made compact on the thread that read its page (``pages_at_once``).
    listing = http.pages_at_once("users", total, workers, USER_PAGE, brief, briefRepresentation="true")
    for keycloak_id, username, first, last, email, enabled, federation in listing:
        if keycloak_id not in clever_of and keycloak_id not in others:
            return None  # an account the last run did not see: the full read
        usernames.add(username)
        unwritable = read_only(providers, federation)
        clever_id = clever_of.get(keycloak_id)
        if clever_id:
            users[clever_id] = CurrentUser(
                keycloak_id,
                clever_id,
                username,
                first,
                last,
                email,
                enabled,
                NOT_READ,
                read_only=unwritable,
                ldap_dn=dns.get(clever_id, ""),
            )
        else:
            accounts.append(
                Account(
                    keycloak_id,
                    username,
                    first,
                    last,
                    enabled=enabled,
                    source="ldap" if federation else "local",
                    read_only=unwritable,
                )
            )
    return users, accounts, usernames


def read_users(http: KeycloakHttp, users: Iterable[CurrentUser], workers: int) -> dict[str, CurrentUser]:
    """Attributes and the Clever link of a few accounts (two calls each, in parallel)."""

    def one(user: CurrentUser) -> tuple[str, CurrentUser]:
        rep = http.get(f"users/{user.keycloak_id}", userProfileMetadata="false")
        links = http.get(f"users/{user.keycloak_id}/federated-identity")
        attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
        linked = any(link["identityProvider"] == IDP_ALIAS for link in links)
        ldap_dn = (attributes.get("LDAP_ENTRY_DN") or (user.ldap_dn,))[0]
        return user.clever_id, replace(user, attributes=attributes, linked=linked, ldap_dn=ldap_dn)

    listed = list(users)
    if not listed:
        return {}
    return dict(bounded_map(one, listed, workers))


def read_tree(
    http: KeycloakHttp, root_name: str, workers: int = 4, classes_of: Set[str] | None = None
) -> tuple[dict[str, CurrentGroup], str]:
    """The tree under ``/<root_name>``, a level at a time, each level's listings ``workers`` at once;
    with ``classes_of``, the class groups of those schools only (``school:<id>:classes``)."""
    response = http.call("GET", f"group-by-path/{root_name}", ok=(404,))
    if response.status_code == 404:
        return {}, ""
    root = response.json()
    groups: dict[str, CurrentGroup] = {}
    _add(groups, root, None)
    frontier = [root]

    def children_of(parent: dict[str, Any]) -> list[dict[str, Any]]:
        return list(http.pages(f"groups/{parent['id']}/children", briefRepresentation="false"))

    wanted = None if classes_of is None else {f"school:{school}:classes" for school in classes_of}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        while frontier:
            parents = [p for p in frontier if p.get("subGroupCount", 1) != 0 and _expand(p, wanted)]
            children: list[dict[str, Any]] = []
            for parent, listed in zip(parents, pool.map(children_of, parents), strict=True):
                for child in listed:
                    _add(groups, child, parent["id"])
                    children.append(child)
            frontier = children
    return groups, str(root["id"])


def _expand(rep: Mapping[str, Any], classes: Set[str] | None) -> bool:
    """Whether the tree read lists this group's children (a school's classes only when wanted)."""
    key = ((rep.get("attributes") or {}).get("clever_key") or [""])[0]
    return classes is None or not key.endswith(":classes") or key in classes


def _add(groups: dict[str, CurrentGroup], rep: dict[str, Any], parent_id: str | None) -> None:
    # Memory: packed, as the wanted groups are (15,764 groups at 50,000 students: 5.6 MB as dicts).
    attributes = PackedAttributes(rep.get("attributes") or {})
    key = (attributes.get("clever_key") or ("",))[0]
    if key:
        groups[key] = CurrentGroup(rep["id"], key, rep["name"], parent_id, attributes)


def read_members(
    http: KeycloakHttp, groups: Mapping[str, CurrentGroup], keys: set[str], workers: int
) -> dict[str, frozenset[str]]:
    """The Keycloak ids of the members of the groups ``keys`` (the root holds nobody)."""

    def one(group: CurrentGroup) -> tuple[str, frozenset[str]]:
        ids = {
            user["id"]
            for user in http.pages(
                f"groups/{group.keycloak_id}/members", MEMBER_PAGE, briefRepresentation="true"
            )
        }
        return group.key, frozenset(ids)

    listed = [group for key, group in groups.items() if key != "root" and key in keys]
    if not listed:
        return {}
    return dict(bounded_map(one, listed, workers))
