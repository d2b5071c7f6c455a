"""Who may never be linked: the few name-match candidates, checked against Keycloak's own view.
(Which ``clever`` links are the sync's is the ownership rule's answer: ``connectors.ownership``.)

An account is privileged (``Account.is_admin``, never a match candidate nor a resolution target)
when the roles Keycloak computes for it — ``GET /users/{id}/role-mappings/realm/composite`` and
``.../clients/{client}/composite``: composites expanded, roles inherited from every parent group
included — hold any of:

* any role of ``realm-management``;
* a role of any other client whose name says ``admin`` or ``manage`` (the ``account`` client's
  self-service roles, such as ``manage-account``, excepted: every user has them);
* a realm role whose name says ``admin`` or ``manage`` (the ``clever-*`` role of Clever district
  admins excepted: it is a Clever role, not a Keycloak power), or our page's ``clever-admin``.

Nothing is re-implemented: Keycloak expands composites and groups. A realm with fine-grained
admin permissions enabled (``adminPermissionsEnabled``) can grant admin power without any role,
so there every account counts as privileged (nobody is matched; said in the report).

Cost: only candidates are checked (accounts of a new person's name or district username, or an
admin's chosen account): once per run, the client list and each client's roles (about 10 calls);
then per candidate one user read, one realm composite read, one composite read per client that
has admin roles (usually one: realm-management), and its groups when ``KCC_MATCH_SCOPES`` names
groups; ``workers`` candidates at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from connectors.base import bounded_map
from connectors.state import REALM_ROLES, Account

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

ADMIN_ROLE = "clever-admin"
ADMIN_WORDS = re.compile(r"admin|manage", re.IGNORECASE)
SELF_SERVICE_CLIENT = "account"
MANAGEMENT_CLIENT = "realm-management"
STRONG_ATTRIBUTES = ("clever_sis_id", "clever_student_number", "clever_teacher_number")
NAME_FIELDS = ("firstName", "lastName")


@dataclass(frozen=True, slots=True)
class Vetter:
    """What the realm says once per run: its admin client roles and whether users edit names."""

    http: KeycloakHttp
    admin_clients: tuple[tuple[str, frozenset[str]], ...]  # (client uuid, its admin role names)
    names_editable: bool  # the User Profile lets users edit first or last name
    everyone_privileged: bool  # fine-grained admin permissions are on
    read_groups: bool = False

    @classmethod
    def read(cls, http: KeycloakHttp, *, read_groups: bool = False) -> Vetter:
        """Read the realm's clients, their admin roles, the User Profile and the realm flags."""
        admin_clients: list[tuple[str, frozenset[str]]] = []
        for client in http.pages("clients", 100):
            if client.get("clientId") == SELF_SERVICE_CLIENT:
                continue
            roles = {
                role["name"] for role in http.get(f"clients/{client['id']}/roles", briefRepresentation="true")
            }
            if client.get("clientId") != MANAGEMENT_CLIENT:
                roles = {name for name in roles if ADMIN_WORDS.search(name)}
            if roles:
                admin_clients.append((client["id"], frozenset(roles)))
        realm = http.get("")
        return cls(
            http,
            tuple(admin_clients),
            names_editable=names_editable(http.get("users/profile")),
            everyone_privileged=bool(realm.get("adminPermissionsEnabled")),
            read_groups=read_groups,
        )

    def notes(self) -> list[str]:
        """What the report should say about the check itself."""
        if self.everyone_privileged:
            return [
                "fine-grained admin permissions are on: every account counts as privileged, none is matched"
            ]
        if self.names_editable:
            return ["the User Profile lets users edit their names: no account is matched by name"]
        return []

    def vet(self, accounts: Iterable[Account], workers: int = 4) -> list[Account]:
        """``accounts`` with their effective privilege, realm roles, DN and strong ids read."""
        listed = list(accounts)
        return [account for _, account in bounded_map(self._one, listed, workers)] if listed else []

    def _one(self, account: Account) -> tuple[str, Account]:
        http, user = self.http, f"users/{account.keycloak_id}"
        rep = http.get(user, userProfileMetadata="false")
        realm_roles = frozenset(role["name"] for role in http.get(f"{user}/role-mappings/realm/composite"))
        admin = self.everyone_privileged or privileged_realm_roles(realm_roles)
        for client_id, admin_roles in self.admin_clients:
            if admin:
                break
            held = {role["name"] for role in http.get(f"{user}/role-mappings/clients/{client_id}/composite")}
            admin = bool(held & admin_roles)
        attributes: dict[str, Any] = rep.get("attributes") or {}
        groups: tuple[str, ...] = ()
        if self.read_groups:
            groups = tuple(g["path"] for g in http.pages(f"{user}/groups", briefRepresentation="true"))
        vetted = replace(
            account,
            vetted=True,
            is_admin=admin,
            enabled=bool(rep.get("enabled", True)),
            realm_roles=realm_roles,
            ldap_dn=(attributes.get("LDAP_ENTRY_DN") or [account.ldap_dn])[0],
            strong_ids=tuple(
                (name, values[0]) for name in STRONG_ATTRIBUTES if (values := attributes.get(name))
            ),
            names_editable=self.names_editable and not account.read_only,
            groups=groups,
        )
        return account.keycloak_id, vetted


def privileged_realm_roles(names: Iterable[str]) -> bool:
    """A realm role that is ours (``clever-admin``) or says admin/manage, Clever's own roles aside."""
    clever_roles = set(REALM_ROLES.values())
    return any(
        name == ADMIN_ROLE or (name not in clever_roles and ADMIN_WORDS.search(name)) for name in names
    )


def names_editable(profile: dict[str, Any]) -> bool:
    """Whether the User Profile lets users (not only admins) edit ``firstName`` or ``lastName``."""
    for attribute in profile.get("attributes") or []:
        if attribute.get("name") in NAME_FIELDS:
            edit = (attribute.get("permissions") or {}).get("edit") or []
            if "user" in edit:
                return True
    return False
