"""Logins started at Clever (portal icon, Instant Login link, Clever Badge at clever.com/badges).

Clever sends these to the app's FIRST redirect URI with ``?code=`` and no ``state``. Keycloak's broker
endpoint refuses a callback without the ``state`` it issued, so the first redirect URI is this
sidecar route, ``GET /clever/login``. It never exchanges the state-less code (a code is single-use and
this one was not asked for by Keycloak); it starts Keycloak's own login for the realm's ``account``
client with ``kc_idp_hint=clever``. Keycloak sends the browser to Clever's ``/oauth/authorize`` with
its own ``state``, nonce and PKCE; Clever's session makes that a silent hop; the Clever callback
lands on Keycloak's broker endpoint (the app's second redirect URI), and the browser ends signed in
on the realm's Account Console (``/realms/<realm>/account/``), where a person sees their name.

``max_age=0`` makes Keycloak ignore an earlier session in the same browser: on a shared classroom
device the person who just clicked in Clever is the one signed in (Clever's guidance), and Keycloak
does not pass ``max_age`` on to Clever (``passMaxAge`` is off), so Clever's session still answers.

Redirect URIs for Clever's dashboard, in this order:

1. ``{KCC_PUBLIC_URL}/clever/login``
2. ``{KCC_KEYCLOAK_URL}/realms/{KCC_REALM}/broker/clever/endpoint``
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from connectors.state import IDP_ALIAS
from plugin.config.settings import Settings

bp = Blueprint("clever_portal", __name__)
LANDING_CLIENT = "account"


def realm_url(settings: Settings) -> str:
    """The public base URL of the configured realm."""
    return f"{settings.keycloak.url.rstrip('/')}/realms/{settings.keycloak.realm}"


def portal_redirect_uri(settings: Settings) -> str:
    """The Clever app's first redirect URI: this route."""
    return f"{settings.public_url.rstrip('/')}/clever/login"


def broker_redirect_uri(settings: Settings) -> str:
    """The Clever app's second redirect URI: Keycloak's broker endpoint for the ``clever`` alias."""
    return f"{realm_url(settings)}/broker/{IDP_ALIAS}/endpoint"


def broker_login_url(settings: Settings) -> str:
    """Keycloak's authorization URL that goes straight to Clever and ends on the Account Console."""
    params = {
        "client_id": LANDING_CLIENT,
        "redirect_uri": f"{realm_url(settings)}/account/",
        "response_type": "code",
        "scope": "openid",
        "kc_idp_hint": IDP_ALIAS,
        "max_age": "0",
    }
    return f"{realm_url(settings)}/protocol/openid-connect/auth?{urlencode(params)}"


@bp.get("/clever/login")
def clever_login() -> BaseResponse:
    """A login started at Clever (or a plain "Login with Clever" link): hand it to Keycloak's broker."""
    settings: Settings = current_app.config["SETTINGS"]
    error = request.args.get("error")
    if error:
        # Clever sends ``error`` (e.g. access_denied) instead of a code when a login was refused.
        text = request.args.get("error_description") or error
        body = (
            "<!doctype html><title>Clever login refused</title><h1>Clever did not sign you in</h1>"
            f"<p id='clever-error'>{escape(text)}</p>"
            f"<p><a href='{escape(broker_login_url(settings))}'>Try again with Clever</a></p>"
        )
        return Response(body, status=400, mimetype="text/html")
    response = redirect(broker_login_url(settings), code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # keep the state-less code out of Keycloak's logs
    return response
