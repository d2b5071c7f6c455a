"""Signing out on a shared device: a Keycloak sign-out of a Clever login also signs the browser out of
Clever, so the next child who presses "Clever" is asked who they are.

What Clever offers (``docs/sso.md``, "Shared devices", has the sources): a browser signed in to Clever
gets a code from ``/oauth/authorize`` without seeing any page, until the person logs out of Clever
(the Clever portal's menu, "Log out"; ``https://clever.com/logout``). Clever documents no OpenID
Connect logout (no ``end_session_endpoint``, no front- or back-channel logout), no way back to the app
after its logout page, and no ``prompt`` or ``max_age`` on ``/oauth/authorize``. So signing out of
Keycloak alone leaves Clever's session open, and "Login with Clever" on Keycloak's login page silently
brings back whoever signed out last.

How it is done: the Clever identity provider's "Logout URL" is this route, with back-channel logout
off (``plugin.sso.logout_config``). When a session that came through Clever is signed out in the browser (the
Account Console's "Sign out", any application's sign-out through Keycloak), Keycloak marks it
LOGGING_OUT and sends the browser here with ``state`` (that session's id). This route then

1. finishes Keycloak's sign-out itself, server to server: ``GET .../broker/clever/endpoint/
   logout_response?state=<id>``, what the browser would do next. Keycloak removes the session (and
   tells back-channel clients); it refuses any session that is not already signing out, so nobody
   can end someone else's session through this route. Waiting for the browser to come back from
   Clever instead would leave the session alive (Clever never sends anyone back);
2. sends the browser to Clever's logout (``{KCC_CLEVER_OAUTH_URL}/logout``): the next person meets
   Clever's login.

Applications that rely on OpenID Connect *front-channel* logout are not told on this path (Keycloak's
page of logout iframes is never shown); back-channel logout, the Keycloak session and its tokens end
as usual. The Clever id_token is not sent (``sendIdTokenOnLogout`` off), so no URL or log carries it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import requests
from flask import Blueprint, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from model.state import IDP_ALIAS
from plugin.config.settings import Settings
from plugin.sso.logout_config import LOGOUT_PATH
from plugin.sso.portal import realm_url

log = logging.getLogger(__name__)
bp = Blueprint("clever_logout", __name__)
SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def clever_logout_url(settings: Settings) -> str:
    """Clever's own sign-out page (``https://clever.com/logout``; the sandbox's ``/logout``)."""
    return f"{settings.clever.oauth_url.rstrip('/')}/logout"


def keycloak_logout_response_url(settings: Settings) -> str:
    """Keycloak's broker endpoint that finishes a sign-out once the provider is done."""
    return f"{realm_url(settings)}/broker/{IDP_ALIAS}/endpoint/logout_response"


def finish_keycloak_logout(settings: Settings, session_id: str) -> bool:
    """Ask Keycloak to finish the sign-out of ``session_id``; False only when Keycloak cannot be
    reached (a refusal means there is no session signing out under that id: nothing to finish)."""
    try:
        answer = requests.get(
            keycloak_logout_response_url(settings),
            params={"state": session_id},
            timeout=10,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("sign-out: Keycloak could not be reached to finish it: %s", type(exc).__name__)
        return False
    if answer.status_code >= 400:
        log.warning("sign-out: Keycloak answered %s: no session was signing out", answer.status_code)
    return True


@bp.get(LOGOUT_PATH)
def clever_logout() -> BaseResponse:
    """Keycloak's sign-out of a Clever login lands here: finish it, then sign out of Clever."""
    settings: Settings = current_app.config["SETTINGS"]
    session_id = request.args.get("state", "")
    if SESSION_ID.match(session_id) and not finish_keycloak_logout(settings, session_id):
        # Keycloak could not be told from here: let the browser finish it, as without this route.
        target = f"{keycloak_logout_response_url(settings)}?{urlencode({'state': session_id})}"
        return _no_store(redirect(target, code=302))
    return _no_store(redirect(clever_logout_url(settings), code=302))


def _no_store(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    return response
