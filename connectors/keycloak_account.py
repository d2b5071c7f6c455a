"""The sidecar's service account in the district realm, and the realm-management roles it needs.

The sidecar and its workers sign in to Keycloak's admin API with the client credentials of one
confidential client in the district's realm (``keycloak-clever``, made by ``keycloak-clever
setup``), whose service account holds exactly ``SERVICE_ROLES``, found by trying: the test suite
runs with exactly these, and ``tests/integration/test_service_account.py`` removes each in turn
and sees the sync, the broker registration or the admin page fail. (Keycloak's ``view-*`` and
``query-*`` roles are implied by the ``manage-*`` ones for what we read.) The master realm's admin
is never needed after ``setup``, and never stored.

Before a service account is used its access token is read (it lists the account's effective
realm-management roles): a missing role is a ``ConfigError`` naming it and what it is for, rather
than a 403 in the middle of a run. Settings: ``settings.keycloak.client_id``/``client_secret``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from keycloak import KeycloakAdmin

from model.base import ConfigError

SERVICE_CLIENT_ID = "keycloak-clever"
MANAGEMENT_CLIENT = "realm-management"
# role -> what the sidecar does with it (the error names it when it is missing)
SERVICE_ROLES = {
    "manage-users": "create, update and disable accounts, link Clever identities, the group tree and "
    "its members, and read admins' roles for the admin page",
    "manage-realm": "the User Profile's clever_* attributes, the clever-* realm roles and the "
    "Clever first-login and portal flows",
    "manage-identity-providers": "the Clever identity provider and its mappers",
    "manage-clients": "the admin page's own sign-in client (clever-sidecar-admin) and the Clever "
    "portal's (clever-portal)",
}


def desired_service_client() -> dict[str, Any]:
    """Confidential, service account only: no browser flow, no password grant, no redirect URI."""
    return {
        "clientId": SERVICE_CLIENT_ID,
        "name": "keycloak-clever sidecar (service account)",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "serviceAccountsEnabled": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "redirectUris": [],
        "webOrigins": [],
    }


def token_roles(admin: KeycloakAdmin) -> set[str]:
    """The realm-management roles in the admin client's current access token (effective roles)."""
    if not admin.connection.token:
        admin.connection.get_token()
    access = str((admin.connection.token or {}).get("access_token", ""))
    try:
        payload = access.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ConfigError("Keycloak gave the service account a token that is not a JWT") from exc
    roles = claims.get("resource_access", {}).get(MANAGEMENT_CLIENT, {}).get("roles", [])
    return {str(role) for role in roles}


def check_service_account(admin: KeycloakAdmin, client_id: str) -> None:
    """ConfigError naming every role of ``SERVICE_ROLES`` the service account lacks, and why."""
    missing = [role for role in SERVICE_ROLES if role not in token_roles(admin)]
    if missing:
        needs = "; ".join(f"{role} ({SERVICE_ROLES[role]})" for role in missing)
        raise ConfigError(
            f"the service account of client {client_id} lacks the realm-management role(s) {needs}: "
            "run `keycloak-clever setup`"
        )
