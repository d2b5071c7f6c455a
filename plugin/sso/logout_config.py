"""The Clever identity provider's sign-out settings, apart from the route (``plugin.sso.logout``, a
Flask blueprint) so that ``register`` and the RQ worker never import Flask."""

from __future__ import annotations

from plugin.config.settings import Settings

LOGOUT_PATH = "/clever/logout"


def sidecar_logout_url(settings: Settings) -> str:
    """The sidecar's sign-out route: the Clever identity provider's "Logout URL"."""
    return f"{settings.public_url.rstrip('/')}{LOGOUT_PATH}"


def idp_logout_config(settings: Settings) -> dict[str, str]:
    """The identity provider's logout settings (strings, as Keycloak keeps its config)."""
    return {
        "logoutUrl": sidecar_logout_url(settings),
        "backchannelSupported": "false",  # a browser sign-out must reach Clever in the browser
        "sendIdTokenOnLogout": "false",  # and Keycloak then keeps no Clever id_token in sessions
        "sendClientIdOnLogout": "false",
    }
