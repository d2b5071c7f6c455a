"""A realm and its LDAP groups as plain data, normalized so two realms can be compared with ``==``.

What a sync run leaves, with what only history or Keycloak decides taken out:

* accounts by the Clever id of their *owned* link (``model.ownership``), never by Keycloak id:
  ``enabled``, names, email, every ``clever_*`` attribute (``clever_removed_at`` and the created
  mark ``clever_created_at``, both times of a run, as "present"), the link's owner, and the paths
  of the groups they are in. Usernames are left out: a new person's
  username avoids the ones taken when they arrive, so it depends on who came first (a full run of
  an existing realm never renames anybody either).
* the ``/Clever`` group tree by path: each group's attributes and its members (by owner).
* the LDAP ``groupOfNames`` under the groups OU: DN relative to the OU, members and owners.

What only an earlier run can have left is listed apart, so that it compares equal to a realm that
never had it *only when it holds nobody*: disabled accounts are listed only when they are still in
a Clever group (``disabled_in_groups``), retired class groups only when they still have members
(``retired_with_members``), and LDAP groups of retired classes only when they list anybody.
"""

from __future__ import annotations

from typing import Any

from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection

from model.ownership import owner_of_link
from model.state import CREATED_MARK

REMOVED = "clever_removed_at"
RUN_TIMES = frozenset({REMOVED, CREATED_MARK})  # when a run did it: only whether it is there compares
Export = dict[str, Any]


def export_realm(admin: KeycloakAdmin, conn: Connection, groups_dn: str) -> Export:
    """The realm's accounts, its ``/Clever`` tree and its LDAP groups, normalized (module doc)."""
    owner_of: dict[str, str] = {}
    accounts: dict[str, Any] = {}
    disabled: dict[str, str] = {}
    for user in admin.get_users({"briefRepresentation": False, "max": 10000}):
        links = admin.get_user_social_logins(user["id"])
        owner = next((o for link in links if (o := owner_of_link(link))), "")
        owner_of[user["id"]] = owner or f"unowned:{user['username']}"
        if not owner:
            continue
        if not user.get("enabled"):
            disabled[owner] = user["id"]
            continue
        accounts[owner] = _account(user, owner)
    groups, retired = _tree(admin, owner_of)
    for path, group in groups.items():
        for member in group["members"]:
            if member in accounts:
                accounts[member]["groups"].append(path)
    for account in accounts.values():
        account["groups"].sort()
    in_groups = {m for group in groups.values() for m in group["members"]}
    live_keys = {(group["attributes"].get("clever_key") or [""])[0] for group in groups.values()}
    return {
        "accounts": accounts,
        "disabled_in_groups": sorted(set(disabled) & in_groups),
        "groups": groups,
        "retired_with_members": {path: members for path, members in retired.items() if members},
        "ldap": _ldap(conn, groups_dn, live_keys),
    }


def _account(user: dict[str, Any], owner: str) -> dict[str, Any]:
    attributes = user.get("attributes") or {}
    kept = {
        name: ["present"] if name in RUN_TIMES else sorted(values)  # a multiset: plan.same_values
        for name, values in sorted(attributes.items())
        if name.startswith("clever_")
    }
    return {
        "enabled": True,
        "link": owner,
        "firstName": user.get("firstName") or "",
        "lastName": user.get("lastName") or "",
        "email": user.get("email") or "",
        "attributes": kept,
        "groups": [],
    }


def _tree(admin: KeycloakAdmin, owner_of: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The live groups under ``/Clever`` by path, and the retired ones' members."""
    root = admin.get_group_by_path("/Clever")
    groups: dict[str, Any] = {}
    retired: dict[str, list[str]] = {}
    frontier = [(root, "/Clever")]
    while frontier:
        rep, path = frontier.pop()
        attributes = rep.get("attributes") or {}
        members = sorted(
            owner_of.get(m["id"], m["id"])
            for m in admin.get_group_members(rep["id"], {"max": 10000, "briefRepresentation": True})
        )
        if REMOVED in attributes:
            retired[path] = members
        else:
            groups[path] = {
                "attributes": {k: sorted(v) for k, v in sorted(attributes.items()) if k != REMOVED},
                "members": members,
            }
        for child in admin.get_group_children(rep["id"], {"max": 10000, "briefRepresentation": False}):
            frontier.append((child, f"{path}/{child['name']}"))
    return groups, retired


def _ldap(conn: Connection, groups_dn: str, live_keys: set[str]) -> dict[str, Any]:
    """LDAP groups by DN relative to the groups OU; a retired class's emptied group is left out."""
    base = groups_dn.lower()

    def relative(dn: str) -> str:
        dn = dn.lower()
        return dn[: -len(base)].rstrip(",") if dn.endswith(base) else dn

    wanted = ["member", "owner", "businessCategory"]
    conn.search(groups_dn, "(objectClass=groupOfNames)", SUBTREE, attributes=wanted)
    found: dict[str, Any] = {}
    for entry in conn.entries:
        key = str(entry["businessCategory"].value or "")
        members = sorted(relative(str(m)) for m in entry["member"].values)
        owners = sorted(relative(str(o)) for o in entry["owner"].values)
        if key not in live_keys and members == [""] and not owners:
            continue  # a class gone from Clever: emptied and kept, as only an earlier run leaves it
        found[relative(entry.entry_dn)] = {"key": key, "members": members, "owners": owners}
    return found
