"""OAuth 2.0 and OpenID Connect as Clever does them, plus the sandbox's login page and portal.

- ``GET /oauth/authorize`` shows a login page: pick a person of the district by role, or type a
  Clever Badge code; ``POST /oauth/authorize`` sends the browser to ``redirect_uri`` with a code
  and the ``state`` it was given.
- ``POST /oauth/tokens`` exchanges a code (single use, 60 s, same ``redirect_uri``) for an SSO
  token and an RS256 id_token; the client authenticates with Basic auth or ``client_secret_post``.
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

import jwt
from flask import Blueprint, Response, g, redirect, render_template, request

from sandbox.api_guard import guarded, message
from sandbox.data_api import state
from sandbox.state import DISTRICT_SCOPES, ID_TOKEN_LIFETIME, USER_TYPES, Grant, SandboxState
from sandbox.store import Obj, user_schools

bp = Blueprint("oauth", __name__)
LOGIN_ROLES = (
    ("district_admin", "District admins"),
    ("teacher", "Teachers"),
    ("student", "Students"),
    ("staff", "Staff"),
    ("contact", "Contacts (parents and guardians)"),
)


def issuer() -> str:
    """The OIDC issuer: configured, or this sandbox's own base URL."""
    return state().config.issuer or request.host_url.rstrip("/")


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


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"


@bp.get("/oauth/authorize")
def authorize() -> Response:
    """The login page of the sandbox district."""
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
    hidden = {
        "client_id": st.config.client_id,
        "redirect_uri": redirect_uri,
        "state": args.get("state", ""),
        "nonce": args.get("nonce", ""),
        "district_id": district,
    }
    district_name = (st.store.get("districts", district) or {}).get("name", district)
    groups = _people(st, district)
    return Response(render_template("login.html", hidden=hidden, groups=groups, district_name=district_name))


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
    user_id = _chosen_user(st, form.get("login_as") or form.get("user_id", ""), form.get("badge_code", ""))
    if isinstance(user_id, Response):
        return user_id
    code = st.issue_code(user_id, redirect_uri, nonce=form.get("nonce", ""), role=form.get("role", ""))
    params = {"code": code}
    if form.get("state"):
        params["state"] = form["state"]
    return redirect(_with_query(redirect_uri, params), code=302)  # type: ignore[return-value]


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
    return redirect(_with_query(target, {"code": st.issue_code(user_id, target)}), code=302)  # type: ignore[return-value]


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
    grant = st.redeem_code(str(body["code"]), str(body["redirect_uri"]))
    if grant is None:
        return oauth_error(400, "invalid_grant", "Invalid grant: invalid code")
    answer = {
        "access_token": st.issue_user_token(grant),
        "token_type": "bearer",
        "id_token": id_token(st, grant),
    }
    return Response(json.dumps(answer), mimetype="application/json", headers={"Cache-Control": "no-store"})


def id_token(st: SandboxState, grant: Grant) -> str:
    """An RS256 id_token with Clever's claims."""
    user = st.store.get("users", grant.user_id) or {}
    name = user.get("name") or {}
    role = next((r for r, t in USER_TYPES.items() if t == grant.user_type), "")
    now = int(st.clock())
    claims = {
        "iss": issuer(),
        "sub": grant.user_id,
        "aud": grant.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "user_id": ((user.get("roles") or {}).get(role) or {}).get("legacy_id") or grant.user_id,
        "multi_role_user_id": grant.user_id,
        "user_type": grant.user_type,
        "district": grant.district,
        "email": user.get("email") or "",
        "email_verified": False,  # Clever never verifies emails
        "given_name": name.get("first") or "",
        "family_name": name.get("last") or "",
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    return jwt.encode(claims, st.signing_key, algorithm="RS256", headers={"kid": st.key_id})


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
            "id": token[:24],
            "created": "2021-02-24T22:24:55.985Z",
            "owner": {"type": "district", "id": district},
            "access_token": token,
            "scopes": list(DISTRICT_SCOPES),
        }
        for district, token in st.district_tokens.items()
        if not wanted or wanted == district
    ]
    links = [{"rel": "self", "uri": request.full_path.rstrip("?")}]
    return Response(json.dumps({"data": data, "links": links}), mimetype="application/json")


@bp.route("/userinfo", methods=["GET", "POST"])
@guarded
def userinfo() -> Response:
    """OIDC userinfo for an SSO token."""
    st, caller = state(), g.caller
    if not caller.user_id:
        return message(403, "Resource not in token's scopes")
    user = st.store.get("users", caller.user_id)
    if user is None:
        return message(404, f"Could not find user {caller.user_id}")
    token = request.headers["Authorization"].split(" ", 1)[1].strip()
    with st.lock:
        user_type = st.user_tokens[token].user_type
    name = user.get("name") or {}
    info = {
        "sub": user["id"],
        "user_id": user["id"],
        "multi_role_user_id": user["id"],
        "user_type": user_type,
        "district_id": caller.district,
        "district": caller.district,
        "email": user.get("email") or "",
        "name": {
            "first": name.get("first") or "",
            "last": name.get("last") or "",
            "middle": name.get("middle") or "",
        },
        "schools": user_schools(user),
        "given_name": name.get("first") or "",
        "family_name": name.get("last") or "",
        "email_verified": False,
        "authorized_by": "district",
    }
    return Response(json.dumps(info, ensure_ascii=False), mimetype="application/json")


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    """The OIDC discovery document; the issuer is the sandbox's base URL."""
    base = issuer()
    doc = {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/tokens",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/oauth/certs",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": ["openid", "profile", "email"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nonce",
            "user_id",
            "multi_role_user_id",
            "user_type",
            "district",
            "email",
            "email_verified",
            "given_name",
            "family_name",
        ],
    }
    return Response(json.dumps(doc), mimetype="application/json")


@bp.get("/oauth/certs")
def certs() -> Response:
    """The JWKS holding the id_token signing key."""
    st = state()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(st.signing_key.public_key()))
    jwk.update({"kid": st.key_id, "use": "sig", "alg": "RS256"})
    return Response(json.dumps({"keys": [jwk]}), mimetype="application/json")
