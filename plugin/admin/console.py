"""Links between the page and the realm in Keycloak's admin console (Keycloak 26), both ways.

To the console: the page links the realm's own admin console (``/admin/<realm>/console/``, where
the realm's admins sign in; the page's Keycloak session signs them in without a prompt) at the
Clever identity provider, the ``/Clever`` groups, the users and the clients.

Back to the page: the page's own client ``clever-sidecar-admin`` carries the page's URL as its
*Home URL* (``baseUrl``) and says what it is in its description. Keycloak 26's console shows
that URL as a link in Clients (the "Home URL" column, ``client-home-url-clever-sidecar-admin``),
and on the client's Settings page. An identity provider's display name is shown to students on the
login page, and a realm attribute nowhere in the console, so neither is used. Seeing the Clients
list needs ``view-clients`` (``realm-admin`` has it).
"""

from __future__ import annotations

from plugin.config.settings import Settings

CLIENT_DESCRIPTION = (
    "Configuration > Authentication > Clever: the Clever integration's admin page (keycloak-clever). "
    "Open it with the Home URL."
)


def console_links(settings: Settings) -> dict[str, str]:
    """The console's pages for this realm: ``identity_provider``, ``groups``, ``users``, ``clients``."""
    realm = settings.keycloak.realm
    base = f"{settings.keycloak.url}/admin/{realm}/console/#/{realm}"
    return {
        "identity_provider": f"{base}/identity-providers/oidc/clever/settings",
        "groups": f"{base}/groups",
        "users": f"{base}/users",
        "clients": f"{base}/clients",
    }
