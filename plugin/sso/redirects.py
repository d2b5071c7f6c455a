"""The Clever app's redirect URIs: the one list the admin page shows, ``docs/sso.md`` names and the
demo registers in the sandbox, in the order to enter them in Clever's dashboard.

1. ``{KCC_PUBLIC_URL}/clever/login``: FIRST, because Clever sends every login started at Clever (the
   portal, an Instant Login link, a Clever Badge) to an app's first redirect URI, with a code and no
   ``state`` (``plugin.sso.portal``);
2. ``{KCC_KEYCLOAK_URL}/realms/{KCC_REALM}/broker/clever/endpoint``: Keycloak's broker endpoint, where
   "Login with Clever" (the login page's button, and the portal's second hop) comes back;
3. ``{KCC_PUBLIC_URL}/configuration/authentication/clever/clever/callback``: the admin page's own
   "Login with Clever" (the district admin verifying the District ID) and "Log in with a Clever Badge"
   (picking a school).

Clever refuses a redirect URI that is not registered ("redirect_uri ... is not registered"), so a
missing third one stops the admin page's steps 2 and 3; a missing second one stops every login.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin.config.settings import Settings
from plugin.sso.portal import broker_redirect_uri, portal_redirect_uri

# The admin page's path (its blueprint's prefix: ``plugin.admin.blueprint`` reads it from here, since
# ``plugin.sso`` sits below ``plugin.admin``) and its Clever callback under it.
ADMIN_PAGE_PREFIX = "/configuration/authentication/clever"
ADMIN_CALLBACK_PATH = f"{ADMIN_PAGE_PREFIX}/clever/callback"


@dataclass(frozen=True, slots=True)
class RedirectUri:
    """One redirect URI of the Clever app and what comes back to it."""

    url: str
    purpose: str


def admin_callback_uri(settings: Settings) -> str:
    """Where Clever answers the admin page's own logins (district admin, Clever Badge)."""
    return f"{settings.public_url.rstrip('/')}{ADMIN_CALLBACK_PATH}"


def clever_redirect_uris(settings: Settings) -> tuple[RedirectUri, ...]:
    """Every redirect URI to register in the Clever app, first one first."""
    return (
        RedirectUri(
            portal_redirect_uri(settings),
            "first: logins started at Clever (portal, Instant Login links, Clever Badges)",
        ),
        RedirectUri(broker_redirect_uri(settings), "Keycloak's broker endpoint: “Login with Clever”"),
        RedirectUri(
            admin_callback_uri(settings),
            "this page: Login with Clever as district admin, Log in with a Clever Badge",
        ),
    )
