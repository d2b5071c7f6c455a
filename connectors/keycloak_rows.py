"""The full read through the clever-sync extension: the realm's accounts, the ``/Clever`` tree and
its members as compact rows (``GET clever-sync/state/users|groups|members``, ``StateResource`` in
``keycloak-extension``), a few queries a page where the admin REST API needs a listing per group and
a User Profile per account (issue 28: the full no-op).

Each function answers what its REST twin in ``connectors.keycloak_read`` answers: the same groups
(``CurrentGroup`` by ``clever_key``), the same member lists (every keyed group but the root, empty
ones too), and user representations with the fields the account readers use (``id``, ``username``,
``firstName``, ``lastName``, ``email``, ``enabled``, ``federationLink`` and the attributes an admin
reads; an LDAP-federated account is read by Keycloak's model as ``GET users`` reads it, so its names
and ``LDAP_ENTRY_DN`` are the provider's). ``None`` from ``read_tree_rows`` and a 403/404 on the
first users page mean a Keycloak whose jar has no such endpoint: the caller reads through REST.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model.state import CurrentGroup, PackedAttributes

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

STATE_PATH = "clever-sync/state"
USERS_PAGE = 5000
GROUPS_PAGE = 20000
MEMBERS_PAGE = 100000
SCOPE_IDS = 5000  # ids a scope request (the extension takes 20,000)
MISSING = (403, 404)  # a jar without the endpoint (404), or a token that may not read it (403)
USER_FIELDS = ("id", "username", "firstName", "lastName", "email", "enabled", "federationLink", "attributes")


def read_tree_rows(http: KeycloakHttp, root_name: str) -> tuple[dict[str, CurrentGroup], str] | None:
    """The tree under ``/<root_name>`` as ``read_tree`` gives it (the groups with a ``clever_key``,
    each with its parent's Keycloak id), and the root's id; None without the endpoint."""
    rows = _rows(http, "groups", "groups", GROUPS_PAGE, root=root_name)
    if rows is None:
        return None
    groups: dict[str, CurrentGroup] = {}
    root_id = ""
    for keycloak_id, name, parent_id, attributes in rows:
        root_id = root_id or keycloak_id  # the root comes first
        packed = PackedAttributes(attributes)
        key = (packed.get("clever_key") or ("",))[0]
        if key:
            groups[key] = CurrentGroup(keycloak_id, key, name, parent_id or None, packed)
    return groups, root_id


def read_members_rows(
    http: KeycloakHttp, root_name: str, groups: Mapping[str, CurrentGroup]
) -> dict[str, frozenset[str]]:
    """Every keyed group's members but the root's, as ``read_members`` gives them for all keys."""
    by_group = members_by_group(http, root_name)
    return {
        key: frozenset(by_group.get(group.keycloak_id, ())) for key, group in groups.items() if key != "root"
    }


def members_by_group(http: KeycloakHttp, root_name: str) -> dict[str, set[str]]:
    """Group id -> the ids of its members, for the groups of the tree that have members."""
    by_group: dict[str, set[str]] = {}
    for group_id, user_id in every_row(http, "members", MEMBERS_PAGE, root=root_name):
        by_group.setdefault(group_id, set()).add(user_id)
    return by_group


def user_reps(http: KeycloakHttp, *, extension: bool) -> Iterator[Mapping[str, Any]]:
    """Every account of the realm (service accounts aside) as a user representation: the
    extension's rows when ``extension`` and the jar has them, else ``GET users`` in full."""
    rows = _rows(http, "users", "users", USERS_PAGE) if extension else None
    if rows is None:
        yield from http.pages("users", briefRepresentation="false")
        return
    for row in rows:
        yield user_rep(row)


def user_rep(row: list[Any]) -> dict[str, Any]:
    """An account's row as the user representation it stands for (``USER_FIELDS``)."""
    return dict(zip(USER_FIELDS, row, strict=True))


def read_rows_of(
    http: KeycloakHttp, root_name: str, users: Iterable[str], groups: Iterable[str]
) -> RealmRows:
    """The tree under the root, and of the realm's memberships and accounts only what an
    incremental run's scope needs: the memberships in the tree of the accounts ``users`` (Keycloak
    ids) and every member of the groups ``groups`` (``clever_key``s; those not in the tree are
    skipped), and the rows of those accounts and members (an id that is no account is left out).
    ``POST clever-sync/state/scope``, a request for each ``SCOPE_IDS`` ids: a few queries for each
    thousand, where the rows above read the whole realm."""
    tree = read_tree_rows(http, root_name)
    if tree is None:
        raise RowsMissing("groups")
    found, root_id = tree
    asked = [("users", i) for i in sorted(set(users))]
    asked += [("groups", i) for i in sorted({found[k].keycloak_id for k in groups if k in found})]
    members: dict[str, set[str]] = {}
    rows: dict[str, list[Any]] = {}
    for start in range(0, len(asked), SCOPE_IDS):
        chunk = asked[start : start + SCOPE_IDS]
        body = {kind: [i for k, i in chunk if k == kind] for kind in ("users", "groups")}
        response = http.ask(f"{STATE_PATH}/scope", body, ok=MISSING, root=root_name)
        if response.status_code in MISSING:
            raise RowsMissing("scope")
        answer = response.json()
        for group_id, user_id in answer["members"]:
            members.setdefault(group_id, set()).add(user_id)
        rows.update((row[0], row) for row in answer["users"])
    return RealmRows(found, root_id, members, list(rows.values()))


@dataclass(frozen=True, slots=True)
class RealmRows:
    """The realm as the extension's rows (``read_rows_of``: an incremental run's part of it): the
    tree under the root (by ``clever_key``) and the root's id, group id -> its members' ids, and the
    accounts' rows (``user_rep`` makes one a representation)."""

    groups: dict[str, CurrentGroup]
    root_id: str
    members: dict[str, set[str]]
    users: list[list[Any]]


class RowsMissing(RuntimeError):
    """The extension answered one of its rows endpoints and not another (a jar of another version):
    its rows are not read as an empty realm, the run stops (asked only after ``reads_rows``)."""

    def __init__(self, part: str) -> None:
        super().__init__(
            f"Keycloak's clever-sync extension did not answer {STATE_PATH}/{part} although it "
            "answers its other rows: deploy the jar built for this Keycloak (scripts/services up)"
        )


def every_row(http: KeycloakHttp, part: str, size: int, **params: str) -> Iterator[list[Any]]:
    """The rows of ``part`` (``_rows``), or ``RowsMissing`` when the endpoint is not there."""
    rows = _rows(http, part, part, size, **params)
    if rows is None:
        raise RowsMissing(part)
    return rows


def _rows(http: KeycloakHttp, part: str, key: str, size: int, **params: str) -> Iterator[list[Any]] | None:
    """The rows of ``clever-sync/state/<part>``, page after page; None when the first page is refused."""
    path = f"{STATE_PATH}/{part}"
    response = http.call("GET", path, ok=MISSING, first="0", max=str(size), **params)
    if response.status_code in MISSING:
        return None
    return _pages(http, path, response.json(), key, size, params)


def _pages(
    http: KeycloakHttp, path: str, page: dict[str, Any], key: str, size: int, params: Mapping[str, str]
) -> Iterator[list[Any]]:
    """The rows of each page; ``next`` names the next page: its query parameters (keyset paging:
    the users' and members' pages start after the last row's keys), or its offset (the groups)."""
    while True:
        yield from page.get(key, [])
        if "next" not in page:
            return
        after = page["next"]
        where = {k: str(v) for k, v in after.items()} if isinstance(after, dict) else {"first": str(after)}
        page = http.get(path, max=str(size), **params, **where)
