"""A stand-in OIDC identity provider in a test realm: the sync links accounts to ``clever``, and a
school's own provider (``google``) is there to show it is never touched."""

from __future__ import annotations

from keycloak import KeycloakAdmin


def register_idp(admin: KeycloakAdmin, alias: str = "clever") -> None:
    """An OIDC provider ``alias`` that no login ever reaches (its endpoints go nowhere)."""
    admin.create_idp(
        {
            "alias": alias,
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "clientId": "test",
                "clientSecret": "test",
                "authorizationUrl": "http://127.0.0.1:1/oauth/authorize",
                "tokenUrl": "http://127.0.0.1:1/oauth/tokens",
            },
        }
    )
