"""The changes ``bench.freshness`` makes in Clever, and how it sees each one arrive.

A change is made in the sandbox (the local Clever) and then looked for, about once a second, in
Keycloak's admin API and in OpenLDAP, the way an admin or an application would see it:

* ``departure``: a student deleted in Clever. Keycloak: the account is disabled; LDAP: their
  directory entry is in no class or school group. Their session (a refresh token and the session
  list, signed in before the change) is looked at too: *refused* when the refresh token no longer
  works and the account has no session left.
* ``move``: a student moved from one of their classes to another class of their school. Keycloak:
  in the new class group and not the old; LDAP: the same for their entry.
* ``rename``: a class renamed. Keycloak: the class group has the new name; LDAP: the class entry's
  ``cn`` is the new name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenID
from ldap3 import SUBTREE, Connection
from ldap3.utils.conv import escape_filter_chars

from sandbox.state import SandboxState

CLIENT_ID = "bench-app"
PASSWORD = "Bench-pa55word"


@dataclass
class Change:
    """One change in Clever and when each side showed it (Unix seconds; 0 = not yet)."""

    kind: str  # departure | move | rename
    clever_id: str  # the student's or the class's
    due_s: float  # when to make it, from the start
    keycloak_id: str = ""  # the student's account, or the class group
    dn: str = ""  # the student's directory entry
    old_section: str = ""
    new_section: str = ""
    new_name: str = ""
    refresh_token: str = ""
    made: float = 0.0
    keycloak: float = 0.0
    ldap: float = 0.0
    refused: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def seen(self) -> float:
        """When both Keycloak and LDAP showed it (0: not yet)."""
        return max(self.keycloak, self.ldap) if self.keycloak and self.ldap else 0.0

    @property
    def done(self) -> bool:
        return bool(self.seen) and (self.kind != "departure" or bool(self.refused))

    def result(self) -> dict[str, Any]:
        def after(moment: float) -> float | None:
            return round(moment - self.made, 2) if moment else None

        return {
            "kind": self.kind,
            "clever_id": self.clever_id,
            "made_at": self.made,
            "keycloak_s": after(self.keycloak),
            "ldap_s": after(self.ldap),
            "seen_s": after(self.seen),
            "session_refused_s": after(self.refused) if self.kind == "departure" else None,
        }


def make(change: Change, sandbox: SandboxState) -> None:
    """Make the change in Clever (the sandbox writes its event)."""
    if change.kind == "departure":
        sandbox.delete("users", change.clever_id)
    elif change.kind == "move":
        sandbox.move_student(change.clever_id, change.old_section, change.new_section)
    else:
        sandbox.update("sections", change.clever_id, {"name": change.new_name})
    change.made = time.time()


@dataclass
class Lookers:
    """What the benchmark looks with: the realm's admin, OpenLDAP, the class groups' ids."""

    admin: KeycloakAdmin
    ldap: Connection
    groups_dn: str
    group_ids: dict[str, str]  # section id -> Keycloak group id
    oidc: KeycloakOpenID | None = None


def look(change: Change, lookers: Lookers) -> None:
    """Note when Keycloak, LDAP (and for a departure the session) first show the change."""
    now = time.time()
    if not change.keycloak and _in_keycloak(change, lookers):
        change.keycloak = now
    if not change.ldap and _in_ldap(change, lookers):
        change.ldap = now
    if change.kind == "departure" and not change.refused and _refused(change, lookers):
        change.refused = now


def _in_keycloak(change: Change, lookers: Lookers) -> bool:
    admin = lookers.admin
    if change.kind == "departure":
        return admin.get_user(change.keycloak_id)["enabled"] is False
    if change.kind == "move":
        groups = {g["id"] for g in admin.get_user_groups(change.keycloak_id, brief_representation=True)}
        return (
            lookers.group_ids[change.new_section] in groups
            and lookers.group_ids[change.old_section] not in groups
        )
    return str(admin.get_group(change.keycloak_id)["name"]).startswith(change.new_name)


def _in_ldap(change: Change, lookers: Lookers) -> bool:
    conn = lookers.ldap
    if change.kind == "departure":
        conn.search(lookers.groups_dn, f"(member={escape_filter_chars(change.dn)})", SUBTREE, attributes=[])
        return not conn.entries
    if change.kind == "move":
        return _member(conn, lookers.groups_dn, change.new_section, change.dn) and not _member(
            conn, lookers.groups_dn, change.old_section, change.dn
        )
    found = _section_entry(conn, lookers.groups_dn, change.clever_id, ["cn"])
    return found is not None and str(found.cn.value).startswith(change.new_name)


def _section_entry(conn: Connection, groups_dn: str, section: str, attributes: list[str]) -> Any:
    conn.search(
        groups_dn,
        f"(businessCategory=section:{escape_filter_chars(section)})",
        SUBTREE,
        attributes=attributes,
    )
    return conn.entries[0] if conn.entries else None


def _member(conn: Connection, groups_dn: str, section: str, dn: str) -> bool:
    entry = _section_entry(conn, groups_dn, section, ["member"])
    return entry is not None and dn.lower() in {str(m).lower() for m in entry.member.values}


def _refused(change: Change, lookers: Lookers) -> bool:
    """The refresh token no longer works and the account has no session left."""
    assert lookers.oidc is not None
    try:
        answer = lookers.oidc.refresh_token(change.refresh_token)
    except Exception:  # python-keycloak raises KeycloakPostError: 400 invalid_grant
        return not lookers.admin.get_sessions(change.keycloak_id)
    change.refresh_token = str(answer.get("refresh_token") or change.refresh_token)
    return False
