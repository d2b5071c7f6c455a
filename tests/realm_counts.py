"""What a run changed, counted by the test itself: a snapshot of Keycloak (accounts, the ``/Clever``
tree and its members) and of the LDAP groups before and after the run, and the difference counted
in the shape of the run's report (``kinds`` and ``ldap``), from the sandbox's raw roster.

Nothing here uses the sync's own code: people's kinds come from the raw Clever JSON, accounts and
groups from Keycloak's admin API, groups from OpenLDAP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection

from sandbox.state import SandboxState
from tests.sync_expect import raw

KINDS = ("schools", "students", "teachers", "staff", "district_admins", "parents", "classes")
PEOPLE = ("students", "teachers", "staff", "district_admins", "parents")
COUNTS = (
    "created",
    "updated",
    "linked_by_name",
    "linked_by_admin",  # an admin's answer applied (none here)
    "unchanged",
    "found",  # accounts an earlier run wrote and did not record (none here)
    "disabled",
    "memberships_added",
    "memberships_removed",
    "failed",
    "waiting",
)
# A person's kind: their most privileged Clever role (contacts get no account: parent data is off).
PRIORITY = (("district_admin", "district_admins"), ("teacher", "teachers"), ("staff", "staff"))
Obj = dict[str, Any]


def kinds_of(state: SandboxState) -> dict[str, str]:
    """Clever id -> report kind of everybody in the sandbox's roster now (contacts left out)."""
    found: dict[str, str] = {}
    for user in raw(state, "users"):
        roles = user.get("roles") or {}
        kind = next((k for role, k in PRIORITY if roles.get(role) is not None), "")
        if not kind and roles.get("student") is not None:
            kind = "students"
        if kind:
            found[user["id"]] = kind
    return found


def nameless(state: SandboxState) -> set[str]:
    """Clever ids of people the roster sends without any name (no account can be made)."""
    return {
        u["id"]
        for u in raw(state, "users")
        if not ((u.get("name") or {}).get("first") or "").strip()
        and not ((u.get("name") or {}).get("last") or "").strip()
    }


@dataclass
class Snapshot:
    """Keycloak's accounts and ``/Clever`` groups, and the LDAP groups, at one moment."""

    accounts: dict[str, Obj] = field(default_factory=dict)  # Keycloak id -> what the sync may change
    groups: dict[str, Obj] = field(default_factory=dict)  # Keycloak id -> key, name, attributes, members
    ldap: dict[str, Obj] = field(default_factory=dict)  # sync key -> dn, members, owners


def snapshot(admin: KeycloakAdmin, conn: Connection, groups_dn: str) -> Snapshot:
    found = Snapshot()
    for user in admin.get_users({"briefRepresentation": False, "max": 10000}):
        attributes = user.get("attributes") or {}
        links = admin.get_user_social_logins(user["id"])
        found.accounts[user["id"]] = {
            "link": next((x["userId"] for x in links if x["identityProvider"] == "clever"), ""),
            "enabled": bool(user.get("enabled")),
            "names": (user.get("firstName") or "", user.get("lastName") or "", user.get("email") or ""),
            "attributes": {k: sorted(v) for k, v in attributes.items() if k.startswith("clever_")},
        }
    root = next(
        (g for g in admin.get_groups({"search": "Clever", "exact": "true"}) if g["name"] == "Clever"), None
    )
    frontier = [root["id"]] if root else []
    while frontier:
        group = admin.get_group(frontier.pop())
        attributes = group.get("attributes") or {}
        members = admin.get_group_members(group["id"], {"max": 10000, "briefRepresentation": True})
        found.groups[group["id"]] = {
            "key": (attributes.get("clever_key") or [""])[0],
            "name": group["name"],
            "parent": group.get("parentId"),
            "attributes": {k: sorted(v) for k, v in attributes.items()},
            "members": {m["id"] for m in members},
        }
        children = admin.get_group_children(group["id"], {"max": 1000, "briefRepresentation": True})
        frontier.extend(child["id"] for child in children)
    conn.search(
        groups_dn, "(objectClass=groupOfNames)", SUBTREE, attributes=["member", "owner", "businessCategory"]
    )
    for entry in conn.entries:
        keys = entry["businessCategory"].values
        if keys:
            found.ldap[keys[0]] = {
                "dn": entry.entry_dn.lower(),
                "members": {str(m).lower() for m in entry["member"].values} - {groups_dn.lower()},
                "owners": {str(m).lower() for m in entry["owner"].values},
            }
    return found


def counted(before: Snapshot, after: Snapshot, state: SandboxState, kinds: dict[str, str]) -> Obj:
    """The report's ``kinds`` and ``ldap`` as the test counts them; ``kinds`` knows every person's kind
    (those the roster has now and those it had: a departed person keeps theirs)."""
    report: dict[str, dict[str, int]] = {kind: dict.fromkeys(COUNTS, 0) for kind in KINDS}
    roster = kinds_of(state)
    _people(report, before, after, roster, kinds)
    _memberships(report, before, after, kinds)
    _groups(report, before, after)
    _waiting(report, after, roster, state)
    return {"kinds": report, "ldap": _ldap(before, after), "ldap_writes": _ldap_writes(before, after)}


def _people(
    report: dict[str, dict[str, int]],
    before: Snapshot,
    after: Snapshot,
    roster: dict[str, str],
    kinds: dict[str, str],
) -> None:
    for keycloak_id, now in after.accounts.items():
        clever_id = now["link"]
        if not clever_id or clever_id not in kinds:
            continue
        counts = report[kinds[clever_id]]
        was = before.accounts.get(keycloak_id)
        if was is None:
            counts["created"] += 1
        elif not was["link"]:
            counts["linked_by_name"] += 1
        elif was["enabled"] and not now["enabled"]:
            counts["disabled"] += 1
        elif was != now:
            counts["updated"] += 1
        elif clever_id in roster and now["enabled"]:
            counts["unchanged"] += 1


def _memberships(
    report: dict[str, dict[str, int]], before: Snapshot, after: Snapshot, kinds: dict[str, str]
) -> None:
    def pairs(snap: Snapshot) -> set[tuple[str, str]]:
        return {(member, group_id) for group_id, group in snap.groups.items() for member in group["members"]}

    link = {kid: a["link"] for kid, a in (before.accounts | after.accounts).items()}
    for keycloak_id, _ in pairs(after) - pairs(before):
        report[kinds[link[keycloak_id]]]["memberships_added"] += 1
    for keycloak_id, _ in pairs(before) - pairs(after):
        report[kinds[link[keycloak_id]]]["memberships_removed"] += 1


def _groups(report: dict[str, dict[str, int]], before: Snapshot, after: Snapshot) -> None:
    was = {g["key"]: g for g in before.groups.values()}
    for group in after.groups.values():
        kind = {"school": "schools", "section": "classes"}.get(group["key"].split(":")[0])
        if kind is None or (kind == "schools" and group["key"].count(":") != 1):
            continue
        old = was.get(group["key"])
        retired = "clever_removed_at" in group["attributes"]
        if old is None:
            report[kind]["created"] += 1
        elif retired:
            report[kind]["disabled"] += "clever_removed_at" not in old["attributes"]
        elif (old["name"], old["attributes"], old["parent"]) != (
            group["name"],
            group["attributes"],
            group["parent"],
        ):
            report[kind]["updated"] += 1
        else:
            report[kind]["unchanged"] += 1


def _waiting(
    report: dict[str, dict[str, int]], after: Snapshot, roster: dict[str, str], state: SandboxState
) -> None:
    """People of the roster without an enabled account linked to them wait (no name, or a name two
    unlinked accounts share, or one that may be theirs: deny by default, ``mappers.eligibility``); anybody
    else without one is a write Keycloak refused (``failed``)."""
    linked = {a["link"] for a in after.accounts.values() if a["link"] and a["enabled"]}
    names: dict[tuple[str, str], int] = {}
    for account in after.accounts.values():
        if not account["link"]:
            key = (account["names"][0].casefold(), account["names"][1].casefold())
            names[key] = names.get(key, 0) + 1
    people = {u["id"]: u for u in raw(state, "users")}
    for clever_id, kind in roster.items():
        if clever_id in linked:
            continue
        report[kind]["waiting"] += 1
        name = people[clever_id].get("name") or {}
        key = ((name.get("first") or "").casefold(), (name.get("last") or "").casefold())
        if clever_id not in nameless(state) and not names.get(key, 0):
            report[kind]["failed"] += 1


def _ldap(before: Snapshot, after: Snapshot) -> dict[str, int]:
    counts = dict.fromkeys(("groups_created", "groups_renamed", "members_added", "members_removed"), 0)
    for key, group in after.ldap.items():
        old = before.ldap.get(key, {"dn": group["dn"], "members": set()})
        counts["groups_created"] += key not in before.ldap
        counts["groups_renamed"] += old["dn"] != group["dn"]
        counts["members_added"] += len(group["members"] - old["members"])
        counts["members_removed"] += len(old["members"] - group["members"])
    return counts


def _ldap_writes(before: Snapshot, after: Snapshot) -> int:
    """One LDAP operation per new group, rename, member addition or removal to a group, owner change."""
    writes = 0
    for key, group in after.ldap.items():
        old = before.ldap.get(key)
        if old is None:
            writes += 1
            continue
        writes += old["dn"] != group["dn"]
        writes += bool(group["members"] - old["members"]) + bool(old["members"] - group["members"])
        writes += old["owners"] != group["owners"]
    return writes


def synced_now(after: Snapshot, roster: dict[str, str]) -> dict[str, int]:
    """People of each kind with an enabled account linked to them (the report's ``synced``)."""
    found = dict.fromkeys(PEOPLE, 0)
    for account in after.accounts.values():
        if account["enabled"] and account["link"] in roster:
            found[roster[account["link"]]] += 1
    return found
