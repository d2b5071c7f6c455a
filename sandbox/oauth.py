"""OAuth 2.0 and OpenID Connect as Clever does them, plus the sandbox's login page and portal.

- ``GET /oauth/authorize`` shows a login page: pick a person of the district by role, or type a
  Clever Badge code; ``POST /oauth/authorize`` sends the browser to ``redirect_uri`` with a code
  and the ``state`` it was given. A browser already signed in to Clever (``sandbox.sessions``) is
  sent straight back with a code, as Clever does, unless ``prompt=login``.
- ``POST /oauth/tokens`` exchanges a code (single use, 60 s, same ``redirect_uri``, the PKCE
  ``code_verifier`` when the authorize request had a ``code_challenge``) for an SSO token and an
  RS256 id_token; the client authenticates with Basic auth or ``client_secret_post``.
- ``GET /oauth/tokens?owner_type=district`` (Basic auth) lists the district-app tokens.
- ``GET /portal`` is the Clever portal: Instant Login links land on the app's first registered
  redirect URI with a code and no ``state``, as Clever's do.
- With no redirect URIs configured, any ``redirect_uri`` is accepted (the real Clever never does).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request

from sandbox.data_api import state
from sandbox.oidc import id_token
from sandbox.sessions import current_session, logout_link, signed_in_response
from sandbox.state import DISTRICT_SCOPES, PKCE_METHODS, SandboxState, Session, pkce_matches
from sandbox.store import Obj

bp = Blueprint("oauth", __name__)
LOGIN_ROLES = (
    ("district_admin", "District admins"),
    ("teacher", "Teachers"),
    ("student", "Students"),
    ("staff", "Staff"),
    ("contact", "Contacts (parents and guardians)"),
)


def oauth_error(status: int, error: str, description: str) -> Response:
    """An OAuth error body, as Clever's token endpoints send them."""
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def client_credentials(body: dict[str, Any] | None = None) -> tuple[str, str]:
    """Client id and secret from Basic auth, else from the body (``client_secret_post``)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    body = body or {}
    return str(body.get("client_id", "")), str(body.get("client_secret", ""))


def _page_error(text: str, status: int = 400) -> Response:
    return Response(render_template("error.html", message=text), status=status)


def _people(st: SandboxState, district: str) -> list[tuple[str, str, list[Obj]]]:
    limit = st.config.login_page_limit
    groups = []
    with st.lock:
        for role, label in LOGIN_ROLES:
            ids = st.store.ids("role", role, district)
            people = [u for u in (st.store.get("users", i) for i in ids[:limit]) if u]
            for person in people:
                person["display_name"] = display_name(person)
                if role == "student":
                    person["badge_code"] = st.badge_code(person["id"])
            groups.append((role, label, people))
    return groups


def display_name(user: Obj) -> str:
    """A person's name for the pages (contacts have it all in ``name.last``)."""
    name = user.get("name") or {}
    return " ".join(p for p in (name.get("first"), name.get("last")) if p) or user["id"]


def _signed_in_name(st: SandboxState, session: Session | None) -> str | None:
    if session is None:
        return None
    return display_name(st.store.get("users", session.user_id) or {"id": session.user_id})


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


def _pkce(args: Any) -> tuple[str, str] | Response:
    """The PKCE challenge and method of an authorize request (RFC 7636; ``plain`` by default)."""
    challenge = str(args.get("code_challenge", ""))
    method = str(args.get("code_challenge_method", "")) or ("plain" if challenge else "")
    if not challenge:
        return ("", "") if not method or method == "plain" else _page_error("code_challenge is missing.")
    if method not in PKCE_METHODS:
        return _page_error(f"code_challenge_method must be S256 or plain, got {method!r}.")
    if not 43 <= len(challenge) <= 128:
        return _page_error("code_challenge must be 43 to 128 characters.")
    return challenge, method


@bp.get("/oauth/authorize")
def authorize() -> Response:
    """The login page of the sandbox district; a signed-in browser goes straight back with a code."""
    st, args = state(), request.args
    if args.get("client_id") != st.config.client_id:
        return _page_error(f"Unknown client_id {args.get('client_id', '')!r}.")
    if args.get("response_type", "code") != "code":
        return _page_error("response_type must be 'code'.")
    redirect_uri = args.get("redirect_uri") or (st.config.redirect_uris[0] if st.config.redirect_uris else "")
    if not redirect_uri or not st.redirect_allowed(redirect_uri):
        return _page_error(f"redirect_uri {redirect_uri!r} is not registered for this app.")
    district = args.get("district_id") or st.district_id
    if district not in st.district_ids:
        return _page_error(f"Unknown district_id {district!r}.")
    pkce = _pkce(args)
    if isinstance(pkce, Response):
        return pkce
    prompt = set(args.get("prompt", "").split())
    session = current_session(st)
    if session is not None and (st.store.get("users", session.user_id) or {}).get("district") != district:
        session = None  # signed in to another district: Clever asks again
    if session is not None and not prompt & {"login", "select_account"}:
        code = st.issue_code(
            session.user_id,
            redirect_uri,
            nonce=args.get("nonce", ""),
            role=session.role,
            code_challenge=pkce[0],
            code_challenge_method=pkce[1],
        )
        return _back_to_app(redirect_uri, {"code": code}, args.get("state", ""))
    if "none" in prompt:  # OIDC: no session and no page allowed
        return _back_to_app(redirect_uri, {"error": "login_required"}, args.get("state", ""))
    hidden = {
        "client_id": st.config.client_id,
        "redirect_uri": redirect_uri,
        "state": args.get("state", ""),
        "nonce": args.get("nonce", ""),
        "district_id": district,
    }
    if pkce[0]:
        hidden |= {"code_challenge": pkce[0], "code_challenge_method": pkce[1]}
    district_name = (st.store.get("districts", district) or {}).get("name", district)
    groups = _people(st, district)
    page = render_template(
        "login.html",
        hidden=hidden,
        groups=groups,
        district_name=district_name,
        signed_in=_signed_in_name(st, session),
        logout_url=logout_link(),
    )
    return Response(page)


def _back_to_app(redirect_uri: str, params: dict[str, str], state_value: str) -> Response:
    if state_value:
        params = params | {"state": state_value}
    return redirect(_with_query(redirect_uri, params), code=302)  # type: ignore[return-value]


@bp.post("/oauth/authorize")
def authorize_submit() -> Response:
    """The login form: a chosen person or a badge code becomes a code at ``redirect_uri``."""
    st, form = state(), request.form
    redirect_uri = form.get("redirect_uri", "")
    if (
        form.get("client_id") != st.config.client_id
        or not redirect_uri
        or not st.redirect_allowed(redirect_uri)
    ):
        return _page_error("This login form was not started by a registered app.")
    pkce = _pkce(form)
    if isinstance(pkce, Response):
        return pkce
    user_id = _chosen_user(st, form.get("login_as") or form.get("user_id", ""), form.get("badge_code", ""))
    if isinstance(user_id, Response):
        return user_id
    role = form.get("role", "")
    code = st.issue_code(
        user_id,
        redirect_uri,
        nonce=form.get("nonce", ""),
        role=role,
        code_challenge=pkce[0],
        code_challenge_method=pkce[1],
    )
    answer = _back_to_app(redirect_uri, {"code": code}, form.get("state", ""))
    return signed_in_response(st, answer, user_id, role)


def _chosen_user(st: SandboxState, user_id: str, badge_code: str) -> str | Response:
    if badge_code.strip():
        found = st.user_for_badge(badge_code)
        return found if found else _page_error("That Clever Badge is not valid.", 401)
    with st.lock:
        user = st.store.get("users", user_id) if user_id else None
    if user is None or user.get("district") not in st.district_ids:
        return _page_error("Choose a person of the district to log in as.")
    return user_id


@bp.get("/portal")
def portal() -> Response:
    """The Clever portal: Instant Login links per person."""
    st = state()
    target = st.config.redirect_uris[0] if st.config.redirect_uris else request.args.get("redirect_uri", "")
    district = st.district_id
    district_name = (st.store.get("districts", district) or {}).get("name", district)
    return Response(
        render_template(
            "portal.html",
            signed_in=_signed_in_name(st, current_session(st)),
            logout_url=logout_link(),
            groups=_people(st, district),
            client_id=st.config.client_id,
            district_id=district,
            district_name=district_name,
            redirect_uri="" if st.config.redirect_uris else target,
            target=target,
        )
    )


@bp.get("/oauth/instant-login")
def instant_login() -> Response:
    """Clever-initiated login: a code at the app's FIRST redirect URI, never a ``state``."""
    st, args = state(), request.args
    if args.get("client_id") != st.config.client_id:
        return _page_error(f"Unknown client_id {args.get('client_id', '')!r}.")
    target = st.config.redirect_uris[0] if st.config.redirect_uris else args.get("redirect_uri", "")
    if not target:
        return _page_error("No redirect URI: start the sandbox with --redirect-uri, or pass redirect_uri.")
    user_id = _chosen_user(st, args.get("user_id", ""), args.get("badge_code", ""))
    if isinstance(user_id, Response):
        return user_id
    # The portal's person is signed in to Clever: a later /oauth/authorize from this browser is silent.
    answer = _back_to_app(target, {"code": st.issue_code(user_id, target)}, "")
    return signed_in_response(st, answer, user_id)


@bp.post("/oauth/tokens")
def tokens() -> Response:
    """Exchange an authorization code for an SSO token and an id_token."""
    st = state()
    body: dict[str, Any] = (
        (request.get_json(silent=True) or {}) if request.is_json else request.form.to_dict()
    )
    client_id, secret = client_credentials(body)
    if not st.check_client(client_id, secret):
        return oauth_error(401, "invalid_client", "Invalid client credentials")
    if body.get("grant_type") != "authorization_code":
        return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code")
    if not body.get("code") or not body.get("redirect_uri"):
        return oauth_error(400, "invalid_request", "code and redirect_uri are required")
    pending = st.codes.get(str(body["code"]))
    verifier = str(body.get("code_verifier") or "")
    grant = st.redeem_code(str(body["code"]), str(body["redirect_uri"]), verifier)
    if grant is None:
        if pending is not None and pending.code_challenge and not pkce_matches(pending, verifier):
            what = "code_verifier is missing" if not verifier else "code_verifier does not match"
            return oauth_error(400, "invalid_grant", f"Invalid grant: {what}")
        return oauth_error(400, "invalid_grant", "Invalid grant: invalid code")
    answer = {
        "access_token": st.issue_user_token(grant),
        "token_type": "bearer",
        "id_token": id_token(st, grant),
    }
    return Response(json.dumps(answer), mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.get("/oauth/tokens")
def district_tokens() -> Response:
    """The district-app tokens of the app (Basic auth), optionally for one ``district``."""
    st = state()
    if not st.check_client(*client_credentials()):
        return oauth_error(401, "invalid_client", "Invalid client credentials")
    if request.args.get("owner_type", "district") != "district":
        return oauth_error(400, "invalid_request", "owner_type must be district")
    wanted = request.args.get("district")
    data = [
        {
            "id": token.access_token[:24],
            "created": token.created,
            "owner": {"type": "district", "id": district},
            "access_token": token.access_token,
            "scopes": list(DISTRICT_SCOPES),
        }
        for district, token in st.listed_district_tokens().items()
        if not wanted or wanted == district
    ]
    links = [{"rel": "self", "uri": request.full_path.rstrip("?")}]
    return Response(json.dumps({"data": data, "links": links}), mimetype="application/json")
