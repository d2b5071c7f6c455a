"""Logins started at Clever (portal icon, Instant Login link, Clever Badge at clever.com/badges).

Clever sends these to the app's FIRST redirect URI with ``?code=`` and no ``state``. Keycloak's broker
endpoint refuses a callback without the ``state`` it issued, so the first redirect URI is this
sidecar route, ``GET /clever/login``. It never exchanges the state-less code (a code is single-use and
this one was not asked for by Keycloak); it starts Keycloak's own login for the realm's
``clever-portal`` client with ``kc_idp_hint=clever``. Keycloak sends the browser to Clever's
``/oauth/authorize`` with its own ``state``, nonce and PKCE; Clever's session makes that a silent hop;
the Clever callback lands on Keycloak's broker endpoint (the app's second redirect URI), and the
browser ends signed in on the realm's Account Console (``/realms/<realm>/account/``), where a person
sees their name. Keycloak sends it there by way of this sidecar's ``GET /clever/signed-in``
(``landing_uri``), which drops the code from the URL: Keycloak 26.7 refuses a ``redirect_uri`` that
carries OIDC response parameters (``code``, ``session_state``, ``iss``;
``allow-oidc-params-in-redirect-uris`` is off by default), and the Account Console starts its own
login with its current URL as the ``redirect_uri``, so landing there with ``?code=`` ended on
"Invalid parameter: redirect_uri".

Shared classroom devices: the person who just clicked in Clever must be the one signed in (Clever's
guidance), never whoever left a Keycloak session in that browser. ``max_age=0`` alone does not do
it: Keycloak's ``CookieAuthenticator`` continues a session unless
``OIDCLoginProtocol.isAuthTimeExpired`` finds ``authTime + maxAge < Time.currentTime()``, in whole
seconds and strictly, so a session authenticated in the same second as the portal click is
continued. The ``clever-portal`` client's browser flow (``plugin.sso.portal_flow``) therefore has no
Cookie step: only the redirect to Clever. ``max_age=0`` stays as a second guard (it is what an OIDC
client says when it wants a fresh login); Keycloak does not pass it on to Clever (``passMaxAge`` is
off), so Clever's session still answers. When the browser holds another person's session, Keycloak
refuses to swap the person inside it ("already authenticated as different user"): that person must
sign out first. The PKCE challenge sent here has a verifier nobody keeps: the code Keycloak then
gives the Account Console's URL is never redeemed (the console signs in by itself through the new
session), and so is worth nothing to whoever reads it.

Redirect URIs for Clever's dashboard, in this order:

1. ``{KCC_PUBLIC_URL}/clever/login``
2. ``{KCC_KEYCLOAK_URL}/realms/{KCC_REALM}/broker/clever/endpoint``
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from model.state import IDP_ALIAS
from plugin.config.settings import Settings
from plugin.sso.portal_flow import PORTAL_CLIENT_ID, portal_landing_uri

bp = Blueprint("clever_portal", __name__)


def realm_url(settings: Settings) -> str:
    """The public base URL of the configured realm."""
    return f"{settings.keycloak.url.rstrip('/')}/realms/{settings.keycloak.realm}"


def portal_redirect_uri(settings: Settings) -> str:
    """The Clever app's first redirect URI: this route."""
    return f"{settings.public_url.rstrip('/')}/clever/login"


def broker_redirect_uri(settings: Settings) -> str:
    """The Clever app's second redirect URI: Keycloak's broker endpoint for the ``clever`` alias."""
    return f"{realm_url(settings)}/broker/{IDP_ALIAS}/endpoint"


def landing_uri(settings: Settings) -> str:
    """Where Keycloak sends the browser after a portal login: this sidecar, on to the Account Console."""
    return portal_landing_uri(settings.public_url)


def broker_login_url(settings: Settings) -> str:
    """Keycloak's authorization URL that goes straight to Clever and ends on the Account Console."""
    params = {
        "client_id": PORTAL_CLIENT_ID,
        "redirect_uri": landing_uri(settings),
        "response_type": "code",
        "scope": "openid",
        "kc_idp_hint": IDP_ALIAS,
        "max_age": "0",
        "code_challenge": _unredeemable_challenge(),
        "code_challenge_method": "S256",
    }
    return f"{realm_url(settings)}/protocol/openid-connect/auth?{urlencode(params)}"


def _unredeemable_challenge() -> str:
    """An S256 PKCE challenge of a verifier that is thrown away at once."""
    digest = hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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


@bp.get("/clever/signed-in")
def clever_signed_in() -> BaseResponse:
    """The end of a portal login: on to the Account Console, without Keycloak's unredeemable code."""
    settings: Settings = current_app.config["SETTINGS"]
    response = redirect(f"{realm_url(settings)}/account/", code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
