"""How to reach Clever, Keycloak and LDAP: the connection settings as frozen plain data.

The connectors take these; ``plugin.config.settings`` builds them from the ``KCC_*`` environment
(``Settings.from_env``, the only reader of the environment). Nothing here reads anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeycloakSettings:
    """Where Keycloak is and how the sidecar signs in to its admin API: with the client credentials
    of its service account in the realm (``client_id``/``client_secret``, made by ``keycloak-clever
    setup``, holding only ``connectors.keycloak_account.SERVICE_ROLES``) or, for ``setup`` itself and
    older deployments, as an admin user of ``admin_realm``."""

    url: str
    admin_user: str = ""
    admin_password: str = field(default="", repr=False)
    admin_realm: str = "master"
    realm: str = "school"
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    # New accounts through the clever-sync extension when Keycloak has it (``connectors.keycloak_bulk``).
    bulk: bool = True
    # Keycloak's readiness check (``connectors.keycloak_health``); "" = port 9000 of ``url``'s host.
    health_url: str = ""

    @property
    def service_account(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """The directory the sidecar writes class and school groups into."""

    url: str
    bind_dn: str
    bind_password: str = field(repr=False)
    base_dn: str
    people_dn: str
    groups_dn: str


@dataclass(frozen=True, slots=True)
class CleverSettings:
    """Clever's two hosts (the real Clever unless told otherwise) and this app's OAuth client."""

    oauth_url: str = "https://clever.com"
    api_url: str = "https://api.clever.com"
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    # New accounts through the clever-sync extension when Keycloak has it (``connectors.keycloak_bulk``).
    bulk: bool = True
    district_id: str = ""
    create_unknown_users: bool = False
    # Data API version of user calls: "auto" (/v3.1, falling back to /v3.0 on 404/403), "v3.0", "v3.1".
    api_version: str = "auto"
    # Opt-outs of linking safety (docs/sso.md "Who can be linked to whom"): users may edit their
    # names (then nobody is matched by name), users may link identity providers themselves.
    users_edit_names: bool = False
    allow_self_linking: bool = False
