"""The Keycloak and LDAP state a sandbox district should end in, computed from the sandbox's raw
Clever JSON (not through the client's parsers or the mappers), and the state actually found.

Both sides are plain dicts so a test compares them with one ``==`` and pytest shows the difference.
Parent data is off in these tests: contacts get no account.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection
from ldap3.utils.dn import escape_rdn

from sandbox.state import SandboxState

ROLE_GROUP = {"student": "Students", "teacher": "Teachers", "staff": "Staff"}
PRIORITY = ("district_admin", "teacher", "staff", "student")
Obj = dict[str, Any]


def raw(state: SandboxState, kind: str) -> list[Obj]:
    return [json.loads(value) for value in state.store.raw[kind].values()]


def _schools_of(user: Obj) -> list[str]:
    found: list[str] = []
    for role, data in (user.get("roles") or {}).items():
        if role in ROLE_GROUP and isinstance(data, dict):
            for school in [data.get("school"), *(data.get("schools") or [])]:
                if school and school not in found:
                    found.append(school)
    return found


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKD", name).casefold().split())


def class_names(sections: list[Obj]) -> dict[str, str]:
    """Section id -> group name: the name, or with `` (<last 6 of id>)`` when a school has it already."""
    names: dict[str, str] = {}
    taken: set[tuple[str, str]] = set()
    for section in sorted(sections, key=lambda s: s["id"]):
        name = " ".join((section.get("name") or f"Section {section['id']}").split())
        key = (section["school"], _fold(name))
        if key in taken:
            name = f"{name} ({section['id'][-6:]})"
        taken.add((section["school"], _fold(name)))
        names[section["id"]] = name
    return names


def expected_keycloak(state: SandboxState, *, deleted_users: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """``{"groups": {path: {"clever_id": .., "members": {clever ids}, "teachers": {..}}},
    "users": {clever id: {...}}}`` for the roster now in the sandbox."""
    schools = {s["id"]: s["name"] for s in raw(state, "schools")}
    groups: dict[str, dict[str, Any]] = {"/Clever": {"clever_id": "", "members": set(), "teachers": set()}}
    for school_id, name in schools.items():
        groups[f"/Clever/{name}"] = {"clever_id": school_id, "members": set(), "teachers": set()}
        for child in ("Students", "Teachers", "Staff", "Parents", "Classes"):
            groups[f"/Clever/{name}/{child}"] = {"clever_id": "", "members": set(), "teachers": set()}
    users: dict[str, dict[str, Any]] = {}
    for user in raw(state, "users"):
        roles = [r for r in PRIORITY if (user.get("roles") or {}).get(r) is not None]
        if not roles:
            continue  # contacts: parent data is off
        name = user.get("name") or {}
        user_schools = _schools_of(user)
        users[user["id"]] = {
            "enabled": True,
            "link": user["id"],
            "firstName": name.get("first") or "",
            "lastName": name.get("last") or "",
            "email": user.get("email") or "",
            "clever_id": [user["id"]],
            "clever_role": [roles[0]],
            "clever_district": [user["district"]],
            "clever_school_ids": sorted(user_schools),
            "clever_removed_at": False,
        }
        for role in roles:
            if role in ROLE_GROUP:
                for school in user_schools:
                    groups[f"/Clever/{schools[school]}/{ROLE_GROUP[role]}"]["members"].add(user["id"])
    sections = raw(state, "sections")
    names = class_names(sections)
    for section in sections:
        teachers = {t for t in [section.get("teacher"), *(section.get("teachers") or [])] if t}
        members = {m for m in {*teachers, *(section.get("students") or [])} if m in users}
        path = f"/Clever/{schools[section['school']]}/Classes/{names[section['id']]}"
        groups[path] = {"clever_id": section["id"], "members": members, "teachers": teachers}
    for clever_id in deleted_users:
        users[clever_id] = {"enabled": False, "link": clever_id, "clever_removed_at": True}
    return {"groups": groups, "users": users}


def actual_keycloak(admin: KeycloakAdmin, expected_users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The same shape, read from Keycloak: the ``/Clever`` tree, its members, the synced accounts.

    Retired class groups (sections gone from Clever) are left out of ``groups``: listed apart.
    """
    root = admin.get_group_by_path("/Clever")
    groups: dict[str, dict[str, Any]] = {}
    retired: dict[str, set[str]] = {}
    by_keycloak_id: dict[str, str] = {}
    accounts: dict[str, dict[str, Any]] = {}
    for user in admin.get_users({"briefRepresentation": False, "max": 5000}):
        attributes = user.get("attributes") or {}
        clever_id = (attributes.get("clever_id") or [""])[0]
        if not clever_id:
            continue
        by_keycloak_id[user["id"]] = clever_id
        links = admin.get_user_social_logins(user["id"])
        link = next((x["userId"] for x in links if x["identityProvider"] == "clever"), "")
        if not user.get("enabled"):
            accounts[clever_id] = {
                "enabled": False,
                "link": link,
                "clever_removed_at": "clever_removed_at" in attributes,
            }
            continue
        keys = ("clever_id", "clever_role", "clever_district")
        accounts[clever_id] = {
            "enabled": True,
            "link": link,
            "firstName": user.get("firstName") or "",
            "lastName": user.get("lastName") or "",
            "email": user.get("email") or "",
            **{k: attributes.get(k) for k in keys},
            "clever_school_ids": sorted(attributes.get("clever_school_ids") or []),
            "clever_removed_at": "clever_removed_at" in attributes,
        }
    frontier = [(root["id"], "/Clever")]
    groups["/Clever"] = _group(admin, root, by_keycloak_id)
    while frontier:
        group_id, path = frontier.pop()
        for child in admin.get_group_children(group_id, {"max": 1000, "briefRepresentation": False}):
            child_path = f"{path}/{child['name']}"
            found = _group(admin, child, by_keycloak_id)
            if "clever_removed_at" in (child.get("attributes") or {}):
                retired[child_path] = found["members"]
            else:
                groups[child_path] = found
            frontier.append((child["id"], child_path))
    for clever_id, wanted in expected_users.items():
        if "email" in wanted and wanted["email"] and clever_id in accounts:
            # An address another account holds already is kept as an attribute only (Keycloak
            # refuses duplicate emails): accept it there.
            user = admin.get_users(
                {"idpAlias": "clever", "idpUserId": clever_id, "briefRepresentation": False}
            )
            if user and not user[0].get("email"):
                kept = ((user[0].get("attributes") or {}).get("clever_email") or [""])[0]
                accounts[clever_id]["email"] = kept
    return {"groups": groups, "users": accounts, "retired": retired}


def _group(admin: KeycloakAdmin, rep: Obj, by_keycloak_id: dict[str, str]) -> dict[str, Any]:
    attributes = rep.get("attributes") or {}
    members = admin.get_group_members(rep["id"], {"max": 5000, "briefRepresentation": True})
    return {
        "clever_id": (attributes.get("clever_id") or [""])[0],
        "members": {by_keycloak_id.get(m["id"], m["username"]) for m in members},
        "teachers": set(attributes.get("clever_teachers") or ()),
    }


def expected_ldap(state: SandboxState, groups_dn: str) -> dict[str, set[str]]:
    """DN -> members of every school and class ``groupOfNames`` (nobody has an LDAP entry here,
    so each lists only the placeholder ``groups_dn``)."""
    schools = {s["id"]: s["name"] for s in raw(state, "schools")}
    found: dict[str, set[str]] = {}
    for name in schools.values():
        found[f"cn={escape_rdn(name)},{groups_dn}".lower()] = {groups_dn.lower()}
    sections = raw(state, "sections")
    names = class_names(sections)
    for section in sections:
        school = f"cn={escape_rdn(schools[section['school']])},{groups_dn}"
        found[f"cn={escape_rdn(names[section['id']])},{school}".lower()] = {groups_dn.lower()}
    return found


def actual_ldap(conn: Connection, groups_dn: str) -> dict[str, set[str]]:
    conn.search(groups_dn, "(objectClass=groupOfNames)", SUBTREE, attributes=["member"])
    return {
        entry.entry_dn.lower(): {str(m).lower() for m in entry["member"].values} for entry in conn.entries
    }
