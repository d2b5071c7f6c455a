"""Keycloak through python-keycloak: the admin client and the writes the sync and broker share."""

from __future__ import annotations

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from connectors.base import RecordError, TransientError
from mappers.layout import IDP_ALIAS
from plugin.settings import KeycloakSettings


def admin_client(settings: KeycloakSettings, realm: str | None = None) -> KeycloakAdmin:
    """An admin client for ``realm`` (the configured realm by default), signed in as the admin."""
    return KeycloakAdmin(
        server_url=settings.url,
        username=settings.admin_user,
        password=settings.admin_password,
        realm_name=realm or settings.realm,
        user_realm_name=settings.admin_realm,
    )


def link_clever_identity(admin: KeycloakAdmin, keycloak_id: str, clever_id: str, username: str) -> None:
    """Link a Keycloak user to a Clever person, so their first "Login with Clever" lands here.

    Keycloak answers 409 when a link for the alias already exists: success when it points at the
    same Clever id, a RecordError (this person cannot be linked here) when it points elsewhere.
    """
    try:
        admin.add_user_social_login(keycloak_id, IDP_ALIAS, clever_id, username)
    except KeycloakError as exc:
        if exc.response_code == 409:
            existing = {
                link["identityProvider"]: link["userId"] for link in admin.get_user_social_logins(keycloak_id)
            }
            if existing.get(IDP_ALIAS) == clever_id:
                return
            raise RecordError(f"user {keycloak_id} is already linked to another Clever id") from exc
        if exc.response_code is not None and exc.response_code >= 500:
            raise TransientError(f"Keycloak answered {exc.response_code} linking {keycloak_id}") from exc
        raise
