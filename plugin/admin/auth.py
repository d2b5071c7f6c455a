"""Sign-in through Keycloak for the admin page and its JSON API, plus CSRF.

* The page signs admins in with OpenID Connect's authorization code flow and PKCE (S256) against the
  configured realm, as the public client ``clever-sidecar-admin``, which ``ensure_admin_client``
  creates (or corrects) in the realm; its only redirect URI is ``{public_url}{prefix}/callback``.
  The code is exchanged server-side and the person read from the realm's userinfo endpoint.
* Who gets in: a realm user with realm-management's ``realm-admin``, or with both
  ``manage-identity-providers`` and ``manage-users`` (composites count), or with the realm role
  ``clever-admin``. Anyone else signed in gets 403; anyone anonymous is redirected to Keycloak (the
  JSON API and ``/metrics`` answer 401 instead).
* Sessions are server-side and revocable (``plugin.admin.sessions``): the cookie holds a random id;
  Sign out deletes the record (a replayed cookie is refused) and ends the Keycloak session; every
  ``RECHECK_S`` (60 s) the session is checked with Keycloak (its refresh token, refused once the
  Keycloak session ended or the user was disabled) and the roles are read again, so a disabled user
  or a removed role loses access at the next request after that; sessions end 8 hours after
  sign-in whatever happens (``LIFETIME_S``).
* Scripts send ``Authorization: Bearer <access token>``: a token of the realm *issued for one of
  the sidecar's own clients* (``azp``: the page's ``clever-sidecar-admin``, the scripts' public
  ``clever-sidecar-api`` with the password and device grants, or a client named in
  ``KCC_API_CLIENTS``); a token of any other client is refused (401) before anything else. It is
  checked at the realm's userinfo endpoint (Keycloak refuses expired or revoked tokens there) and
  the same role rule applies; an answer is cached for ``BEARER_CACHE_S`` (5 s) at most. Bearer
  requests need no CSRF token: they carry no ambient cookie authority.
* The cookie (``kcc_session``): Flask's signed cookie, HttpOnly, SameSite=Lax, Secure when
  ``public_url`` is https (set by ``create_app``); it holds the session id, the CSRF token and the
  PKCE verifier of a login in progress, never a secret of the integration. Cleared at sign-in.
* CSRF: one random token per session, checked on every non-GET request (form field ``csrf_token``
  or header ``X-CSRF-Token``) with a constant-time comparison.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Response, g, jsonify, redirect, render_template, request, session, url_for
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from plugin.admin.blueprint import URL_PREFIX, bp
from plugin.admin.console import CLIENT_DESCRIPTION
from plugin.admin.services import services
from plugin.admin.sessions import AdminSession, SessionStore
from plugin.config.settings import Settings

log = logging.getLogger(__name__)

CLIENT_ID = "clever-sidecar-admin"
API_CLIENT_ID = "clever-sidecar-api"
ADMIN_ROLE = "clever-admin"
MANAGE_ROLES = frozenset({"manage-identity-providers", "manage-users"})
BEARER_CACHE_S = 5
PUBLIC_ENDPOINTS = frozenset({"clever_admin.login", "clever_admin.callback"})
_bearer_cache: dict[str, tuple[float, AdminUser | None]] = {}


@dataclass(frozen=True, slots=True)
class AdminUser:
    """Who is signed in (their Keycloak id and username) and whether they may use the page."""

    keycloak_id: str
    username: str
    allowed: bool


def oidc_url(settings: Settings, endpoint: str) -> str:
    """A Keycloak OIDC endpoint of the realm (``auth``, ``token``, ``userinfo``, ``logout``)."""
    return f"{settings.keycloak.url}/realms/{settings.keycloak.realm}/protocol/openid-connect/{endpoint}"


def callback_url(settings: Settings) -> str:
    return f"{settings.public_url}{URL_PREFIX}/callback"


def desired_admin_client(settings: Settings) -> dict[str, Any]:
    """The page's OIDC client: public, code flow only, PKCE S256 required, one exact redirect URI."""
    return {
        "clientId": CLIENT_ID,
        "name": "Clever admin page (keycloak-clever)",
        # The console's way back to the page (``plugin.admin.console``).
        "description": CLIENT_DESCRIPTION,
        "baseUrl": f"{settings.public_url}{URL_PREFIX}/",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "redirectUris": [callback_url(settings)],
        "webOrigins": [],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": f"{settings.public_url}{URL_PREFIX}",
        },
    }


def desired_api_client() -> dict[str, Any]:
    """The scripts' client: public, no browser flow; the password and device grants for tokens."""
    return {
        "clientId": API_CLIENT_ID,
        "name": "Clever admin API for scripts (keycloak-clever)",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": True,
        "serviceAccountsEnabled": False,
        "redirectUris": [],
        "webOrigins": [],
        "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
    }


def ensure_admin_client(admin: KeycloakAdmin, settings: Settings) -> None:
    """Create the page's client and the scripts' client in the realm, or put back what differs."""
    _ensure_client(admin, desired_admin_client(settings))
    _ensure_client(admin, desired_api_client())


def _ensure_client(admin: KeycloakAdmin, desired: dict[str, Any]) -> None:
    internal_id = admin.get_client_id(desired["clientId"])
    if internal_id is None:
        admin.create_client(desired, skip_exists=True)
        return
    current = admin.get_client(internal_id)
    attributes = current.get("attributes", {})
    stale = [k for k, v in desired.items() if k != "attributes" and current.get(k) != v]
    stale += [k for k, v in desired["attributes"].items() if attributes.get(k) != v]
    if stale:
        merged = {**current, **desired, "attributes": {**attributes, **desired["attributes"]}}
        admin.update_client(internal_id, merged)


def may_administer(admin: KeycloakAdmin, keycloak_id: str) -> bool:
    """The role rule of the module docstring, with composite roles resolved by Keycloak."""
    realm_roles = {role["name"] for role in admin.get_composite_realm_roles_of_user(keycloak_id)}
    if ADMIN_ROLE in realm_roles:
        return True
    management = admin.get_client_id("realm-management")
    if management is None:
        return False
    held = {role["name"] for role in admin.get_composite_client_roles_of_user(keycloak_id, management)}
    return "realm-admin" in held or held >= MANAGE_ROLES


def _check_roles(keycloak_id: str) -> bool:
    try:
        return may_administer(services().keycloak(), keycloak_id)
    except KeycloakError as exc:
        if exc.response_code == 404:  # the user is gone
            return False
        raise


def _userinfo(settings: Settings, access_token: str) -> dict[str, Any] | None:
    response = requests.get(
        oidc_url(settings, "userinfo"), headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    if response.status_code != 200:
        return None
    body = response.json()
    return body if isinstance(body, dict) and body.get("sub") else None


def token_client(access_token: str) -> str:
    """The client a JWT access token was issued for (``azp``), read from its payload; "" if none.

    The payload is not trusted on its own: the token then goes to Keycloak's userinfo endpoint,
    which checks its signature, so a forged ``azp`` is refused there."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return ""
    return str(claims.get("azp", "")) if isinstance(claims, dict) else ""


def accepted_clients(settings: Settings) -> frozenset[str]:
    return frozenset({CLIENT_ID, API_CLIENT_ID, *settings.api_clients})


def bearer_user(access_token: str) -> AdminUser | None:
    """The person behind a bearer token of one of our clients (None when refused), cached briefly."""
    settings = services().settings
    if token_client(access_token) not in accepted_clients(settings):
        return None
    digest = hashlib.sha256(access_token.encode()).hexdigest()
    cached = _bearer_cache.get(digest)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    info = _userinfo(settings, access_token)
    user = None
    if info is not None:
        sub = str(info["sub"])
        user = AdminUser(sub, str(info.get("preferred_username", sub)), _check_roles(sub))
    if len(_bearer_cache) > 1000:
        _bearer_cache.clear()
    _bearer_cache[digest] = (time.monotonic() + BEARER_CACHE_S, user)
    return user


def csrf_token() -> str:
    """This session's CSRF token (made on first use); templates call it as ``csrf_token()``."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    return isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode())


def _is_api() -> bool:
    return (
        request.path.startswith(f"{URL_PREFIX}/api/")
        or request.path == "/metrics"
        or request.accept_mimetypes.best == "application/json"
    )


def _refuse(status: int, message: str) -> Response:
    if _is_api():
        response = jsonify({"error": message})
        response.status_code = status
    else:
        response = Response(render_template("clever_admin/refused.html", status=status, message=message))
        response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="keycloak-clever"'
    return response


refuse = _refuse  # for the other checks of plugin.admin (input)


@bp.before_request
def guard() -> Response | None:
    """Every route but sign-in itself: signed in, allowed, and (for changes) a valid CSRF token."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        user = bearer_user(header[7:].strip())
        if user is None:
            return _refuse(401, "the bearer token was refused by Keycloak")
        if not user.allowed:
            return _refuse(403, "this account may not manage the Clever integration")
        g.admin_user, g.via_bearer = user, True
        return None
    sid = session.get("sid")
    store = _sessions()
    record = store.get(sid) if isinstance(sid, str) else None
    if record is not None and record.due(time.time()):
        record = _recheck(store, str(sid), record)
    if record is None:
        session.pop("sid", None)
        if request.method == "GET" and not _is_api():
            session["next"] = request.full_path if request.query_string else request.path
            return redirect(url_for("clever_admin.login"))  # type: ignore[return-value]
        return _refuse(401, "sign in first")
    user = AdminUser(record.user_id, record.username, record.allowed)
    if not user.allowed:
        return _refuse(403, f"{user.username} may not manage the Clever integration of this realm")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _csrf_ok():
        return _refuse(400, "the form expired or did not come from this page: reload it and try again")
    g.admin_user, g.via_bearer = user, False
    return None


def _sessions() -> SessionStore:
    svc = services()
    return SessionStore(svc.redis, svc.realm, svc.settings.secret_key)


def _recheck(store: SessionStore, sid: str, record: AdminSession) -> AdminSession | None:
    """Ask Keycloak whether the session still stands (its refresh token) and read the roles again;
    None (and the record gone) when the Keycloak session ended or the user is disabled or gone."""
    settings = services().settings
    answer = requests.post(
        oidc_url(settings, "token"),
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "refresh_token": store.refresh_token(record),
        },
        timeout=10,
    )
    if answer.status_code != 200:
        store.end(sid)
        log.info("admin page: session of keycloak user %s ended (Keycloak refused it)", record.user_id)
        return None
    store.checked(sid, record, _check_roles(record.user_id), str(answer.json().get("refresh_token", "")))
    return record


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@bp.get("/login")
def login() -> Response:
    """Send the browser to Keycloak (after making sure the page's client is there)."""
    svc = services()
    if svc.admin_client_ensured != callback_url(svc.settings):
        ensure_admin_client(svc.keycloak(), svc.settings)
        svc.admin_client_ensured = callback_url(svc.settings)
    verifier, challenge = _pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session["oidc"] = {"state": state, "verifier": verifier, "nonce": nonce}
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": callback_url(svc.settings),
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return redirect(f"{oidc_url(svc.settings, 'auth')}?{urlencode(query)}")  # type: ignore[return-value]


@bp.get("/callback")
def callback() -> Response:
    """Keycloak's answer: check the state, exchange the code with the PKCE verifier, read the person."""
    pending = session.pop("oidc", None)
    state = request.args.get("state", "")
    if not isinstance(pending, dict) or not hmac.compare_digest(state, str(pending.get("state", ""))):
        return _refuse(400, "this sign-in was not started here, or has expired: start again")
    if "code" not in request.args:
        return _refuse(401, f"Keycloak did not sign you in ({request.args.get('error', 'no code')})")
    settings = services().settings
    answer = requests.post(
        oidc_url(settings, "token"),
        data={
            "grant_type": "authorization_code",
            "code": request.args["code"],
            "redirect_uri": callback_url(settings),
            "client_id": CLIENT_ID,
            "code_verifier": pending["verifier"],
        },
        timeout=10,
    )
    tokens = answer.json() if answer.status_code == 200 else {}
    info = _userinfo(settings, str(tokens.get("access_token", ""))) if tokens else None
    if info is None:
        return _refuse(401, "Keycloak did not confirm the sign-in: start again")
    next_path = session.get("next", "")
    session.clear()  # a fresh session (and CSRF token) for the signed-in person
    sub = str(info["sub"])
    allowed = _check_roles(sub)
    username = str(info.get("preferred_username", sub))
    session["sid"] = _sessions().create(sub, username, allowed, str(tokens.get("refresh_token", "")))
    log.info("admin page: sign-in by keycloak user %s (allowed=%s)", sub, allowed)
    if not (isinstance(next_path, str) and next_path.startswith(URL_PREFIX + "/")):
        next_path = URL_PREFIX + "/"
    return redirect(next_path)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    """End the session here (its record is deleted: the cookie is worthless), end the Keycloak
    session with the session's refresh token, then show Keycloak's sign-out."""
    store = _sessions()
    sid = session.get("sid")
    record = store.get(sid) if isinstance(sid, str) else None
    settings = services().settings
    if record is not None:
        with contextlib.suppress(requests.RequestException):
            requests.post(
                oidc_url(settings, "logout"),
                data={"client_id": CLIENT_ID, "refresh_token": store.refresh_token(record)},
                timeout=10,
            )
        store.end(str(sid))
    session.clear()
    query = {"client_id": CLIENT_ID, "post_logout_redirect_uri": f"{settings.public_url}{URL_PREFIX}"}
    return redirect(f"{oidc_url(settings, 'logout')}?{urlencode(query)}")  # type: ignore[return-value]
