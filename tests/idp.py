"""A stand-in OIDC identity provider in a test realm: the sync links accounts to ``clever``, and a
school's own provider (``google``) is there to show it is never touched. ``register_realm_idp``
makes a real one: another realm of the same Keycloak that people sign in to."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RealmIdp:
    """Another realm of the same Keycloak playing a district's own OIDC provider (its Google
    Workspace, say) for ``broker_realm``: people sign in there with a password, and ``broker_realm``
    sends its sign-outs there too (front-channel, as Keycloak does for an OIDC provider)."""

    admin: KeycloakAdmin  # of the provider's realm
    alias: str  # the provider's alias in ``broker_realm``

    def add_person(self, username: str, first: str, last: str) -> tuple[str, str]:
        """A person of the provider (email verified): their subject (``sub``) and password."""
        password = secrets.token_urlsafe(12)
        subject: str = self.admin.create_user(
            {
                "username": username,
                "enabled": True,
                "firstName": first,
                "lastName": last,
                "email": f"{username}@idp.district.example",
                "emailVerified": True,
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        )
        return subject, password


def register_realm_idp(
    broker: KeycloakAdmin, provider: KeycloakAdmin, keycloak_url: str, alias: str, *, sync_mode: str = "FORCE"
) -> RealmIdp:
    """Make ``provider``'s realm an OIDC provider ``alias`` of ``broker``'s realm (its client, and
    the provider in ``broker``'s realm, a real one: sign-in and sign-out go through it)."""
    broker_realm, provider_realm = broker.connection.realm_name, provider.connection.realm_name
    secret = secrets.token_urlsafe(24)
    endpoint = f"{keycloak_url}/realms/{broker_realm}/broker/{alias}/endpoint"
    provider.create_client(
        {
            "clientId": alias,
            "secret": secret,
            "publicClient": False,
            "standardFlowEnabled": True,
            "redirectUris": [f"{endpoint}*"],
            "attributes": {"post.logout.redirect.uris": "+"},
        }
    )
    oidc = f"{keycloak_url}/realms/{provider_realm}/protocol/openid-connect"
    broker.create_idp(
        {
            "alias": alias,
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "clientId": alias,
                "clientSecret": secret,
                "clientAuthMethod": "client_secret_post",
                "issuer": f"{keycloak_url}/realms/{provider_realm}",
                "authorizationUrl": f"{oidc}/auth",
                "tokenUrl": f"{oidc}/token",
                "userInfoUrl": f"{oidc}/userinfo",
                "jwksUrl": f"{oidc}/certs",
                "useJwksUrl": "true",
                "validateSignature": "true",
                "logoutUrl": f"{oidc}/logout",
                "backchannelSupported": "false",
                "defaultScope": "openid profile email",
                "syncMode": sync_mode,
            },
        }
    )
    return RealmIdp(provider, alias)
