"""What Keycloak says about the few name-match candidates: what each holds beyond the realm's
defaults, whether it has admin power, which other identity providers write its names. (Which
``clever`` links are the sync's is the ownership rule's answer: ``model.ownership``.)

Deny by default (``mappers.names``): an account is a plain candidate only when it holds nothing
beyond the realm's defaults. So the check reads what Keycloak itself says, not role names:

* once per run: the realm (``defaultRole``, ``adminPermissionsEnabled``), the default role's
  composites, expanded (``roles-by-id/{id}/composites``), the default groups (``default-groups``),
  the ``realm-management`` client, the User Profile, and the identity providers with their
  mappers (``identity-provider/instances``; ``name_providers``);
* per candidate: the user, its direct role mappings (``users/{id}/role-mappings``: realm and
  ``clientMappings``), its groups, its effective realm roles and ``realm-management`` roles
  (``.../realm/composite``, ``.../clients/{id}/composite``: composites and groups expanded by
  Keycloak), and, when the realm has other identity providers, its links.

``Account.holds`` is every direct role mapping that is not one of the default role's (expanded) and
every group that is not a default group, in words ("realm role staff", "client role
gradebook/superuser", "group /Teachers-Old"); a role reached through a group is covered by the
group. ``Account.is_admin`` (never linked, not even by an admin's choice): any ``realm-management``
role among its effective roles, our page's ``clever-admin`` realm role, or fine-grained admin
permissions on in the realm (there admin power needs no role: every account counts, and nobody is
matched; the report says so). ``Account.names_from``: the providers it is linked to whose names
reach it at every login (``rewrites_names``).

Cost: about ``8 + P`` calls once per run (P identity providers), then five or six per candidate,
``workers`` candidates at once. Only candidates are read: accounts of a new person's name, near
name or district username, and accounts an admin chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from connectors.pooling import bounded_map
from model.state import IDP_ALIAS, Account

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

ADMIN_ROLE = "clever-admin"
MANAGEMENT_CLIENT = "realm-management"
STRONG_ATTRIBUTES = ("clever_sis_id", "clever_student_number", "clever_teacher_number")
NAME_FIELDS = ("firstName", "lastName")
# Where an identity-provider mapper names the user property it writes (OIDC and SAML attribute
# mappers, social providers' JSON mappers, the hard-coded attribute mapper).
MAPPER_TARGETS = ("user.attribute", "userAttribute", "attribute")


@dataclass(frozen=True, slots=True)
class Vetter:
    """What the realm says once per run, and the per-candidate read (``vet``)."""

    http: KeycloakHttp
    default_roles: frozenset[str]  # role ids: the default role and its composites, expanded
    default_groups: frozenset[str]  # group paths
    management_client: str  # the realm-management client's id ("" when the realm has none)
    names_editable: bool  # the User Profile lets users edit first or last name
    everyone_privileged: bool  # fine-grained admin permissions are on
    # Other identity providers: alias -> whether their names reach linked accounts at every login.
    providers: Mapping[str, bool] = field(default_factory=dict)

    @classmethod
    def read(cls, http: KeycloakHttp) -> Vetter:
        """Read the realm's defaults, its management client, User Profile and identity providers."""
        realm = http.get("")
        default_role = realm.get("defaultRole") or {}
        management = http.get("clients", clientId=MANAGEMENT_CLIENT)
        return cls(
            http,
            default_roles=composites(http, default_role["id"]) if default_role.get("id") else frozenset(),
            default_groups=frozenset(group["path"] for group in http.get("default-groups")),
            management_client=management[0]["id"] if management else "",
            names_editable=names_editable(http.get("users/profile")),
            everyone_privileged=bool(realm.get("adminPermissionsEnabled")),
            providers=name_providers(http),
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
        """``accounts`` as Keycloak holds them: privilege, holdings, realm roles, groups, DN, links."""
        listed = list(accounts)
        return [account for _, account in bounded_map(self._one, listed, workers)] if listed else []

    def _one(self, account: Account) -> tuple[str, Account]:
        http, user = self.http, f"users/{account.keycloak_id}"
        rep = http.get(user, userProfileMetadata="false")
        mappings = http.get(f"{user}/role-mappings")
        groups = tuple(g["path"] for g in http.pages(f"{user}/groups", briefRepresentation="true"))
        realm_roles = frozenset(role["name"] for role in http.get(f"{user}/role-mappings/realm/composite"))
        admin = self.everyone_privileged or ADMIN_ROLE in realm_roles
        if not admin and self.management_client:
            admin = bool(http.get(f"{user}/role-mappings/clients/{self.management_client}/composite"))
        linked: list[str] = []
        if self.providers:
            links = http.get(f"{user}/federated-identity")
            linked = sorted(
                link["identityProvider"] for link in links if link["identityProvider"] in self.providers
            )
        attributes: dict[str, Any] = rep.get("attributes") or {}
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
            holds=holdings(mappings, groups, self.default_roles, self.default_groups),
            source=account.source if account.source == "ldap" or not linked else linked[0],
            names_from=tuple(alias for alias in linked if self.providers[alias]),
            # A candidate has no owned link: a ``clever_id`` it carries is left from an unlink (data,
            # it only makes that person wait). Read here too for accounts a brief listing found.
            carried_clever_id=account.carried_clever_id or (attributes.get("clever_id") or [""])[0],
        )
        return account.keycloak_id, vetted


def composites(http: KeycloakHttp, role_id: str) -> frozenset[str]:
    """The ids of ``role_id`` and every role it holds, composites expanded."""
    seen = {role_id}
    frontier = [role_id]
    while frontier:
        for role in http.get(f"roles-by-id/{frontier.pop()}/composites"):
            if role["id"] not in seen:
                seen.add(role["id"])
                if role.get("composite"):
                    frontier.append(role["id"])
    return frozenset(seen)


def holdings(
    mappings: Mapping[str, Any],
    groups: Iterable[str],
    default_roles: frozenset[str],
    default_groups: frozenset[str],
) -> tuple[str, ...]:
    """What a user's direct role mappings and groups hold beyond the realm's defaults, in words."""
    held = [
        f"realm role {r['name']}" for r in mappings.get("realmMappings") or [] if r["id"] not in default_roles
    ]
    for client, found in sorted((mappings.get("clientMappings") or {}).items()):
        held += [
            f"client role {client}/{r['name']}"
            for r in found.get("mappings") or []
            if r["id"] not in default_roles
        ]
    held += [f"group {path}" for path in groups if path not in default_groups]
    return tuple(sorted(held))


def rewrites_names(provider: Mapping[str, Any], mappers: Iterable[Mapping[str, Any]]) -> bool:
    """Whether logins through ``provider`` write first or last name to a linked account each time.

    Keycloak copies names at every login when the provider's sync mode is FORCE
    (``IdentityBrokerService.updateFederatedIdentity``), and a mapper writes at every login when its
    own sync mode is FORCE, or INHERIT on a FORCE provider (``IdentityProviderMapperSyncModeDelegate``).
    """
    mode = str((provider.get("config") or {}).get("syncMode") or "LEGACY")
    if mode == "FORCE":
        return True
    for mapper in mappers:
        config = mapper.get("config") or {}
        target = next((str(config[key]) for key in MAPPER_TARGETS if config.get(key)), "")
        if target.casefold() not in {name.casefold() for name in NAME_FIELDS}:
            continue
        own = str(config.get("syncMode") or "INHERIT")
        if (mode if own == "INHERIT" else own) == "FORCE":
            return True
    return False


def name_providers(http: KeycloakHttp) -> dict[str, bool]:
    """The realm's identity providers but Clever: alias -> ``rewrites_names`` (one call each)."""
    found: dict[str, bool] = {}
    for provider in http.pages("identity-provider/instances", 100):
        alias = provider["alias"]
        if alias != IDP_ALIAS:
            found[alias] = rewrites_names(provider, http.get(f"identity-provider/instances/{alias}/mappers"))
    return found


def names_editable(profile: dict[str, Any]) -> bool:
    """Whether the User Profile lets users (not only admins) edit ``firstName`` or ``lastName``."""
    for attribute in profile.get("attributes") or []:
        if attribute.get("name") in NAME_FIELDS:
            edit = (attribute.get("permissions") or {}).get("edit") or []
            if "user" in edit:
                return True
    return False
