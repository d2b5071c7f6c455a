"""OpenID Connect as Clever does it: id_tokens, ``/userinfo``, discovery and the JWKS.

Claims a person has no value for are left out (OIDC Core 5.3.2; Clever omits them), never ``""``.
``user_id`` is the person's pre-v3 (legacy) id in the role they signed in as, ``sub`` and
``multi_role_user_id`` their v3 id. With ``SandboxState.tamper_id_token`` (or the fault
``bad_signature``) id_tokens are signed with a key that is not in the JWKS, under the JWKS key's kid.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from flask import Blueprint, Response, g, request

from sandbox.api_guard import guarded, message
from sandbox.data_api import state
from sandbox.state import ID_TOKEN_LIFETIME, PKCE_METHODS, Grant, SandboxState, legacy_id, role_of
from sandbox.store import user_schools

bp = Blueprint("oidc", __name__)


def issuer() -> str:
    """The OIDC issuer: configured, or this sandbox's own base URL."""
    return state().config.issuer or request.host_url.rstrip("/")


def present(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims that have a value: OIDC (and Clever) leave out what a person lacks, never ``""``."""
    return {k: v for k, v in claims.items() if v is not None and v != ""}


def id_token(st: SandboxState, grant: Grant) -> str:
    """An RS256 id_token with Clever's claims (signed with a rogue key when tampering is on)."""
    user = st.store.get("users", grant.user_id) or {"id": grant.user_id}
    name = user.get("name") or {}
    now = int(st.clock())
    claims = {
        "iss": issuer(),
        "sub": grant.user_id,
        "aud": grant.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "user_id": legacy_id(user, role_of(grant.user_type)),
        "multi_role_user_id": grant.user_id,
        "user_type": grant.user_type,
        "district": grant.district,
        "email": user.get("email"),
        "email_verified": False,  # Clever never verifies emails
        "given_name": name.get("first"),
        "family_name": name.get("last"),
        "nonce": grant.nonce,
    }
    return jwt.encode(present(claims), st.id_token_key(), algorithm="RS256", headers={"kid": st.key_id})


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
        "user_id": legacy_id(user, role_of(user_type)),  # the pre-v3 id, as in the id_token
        "multi_role_user_id": user["id"],
        "user_type": user_type,
        "district_id": caller.district,
        "district": caller.district,
        "email": user.get("email"),
        # The name as the user record has it (Clever's example keeps a stored "" middle name).
        "name": {k: v for k, v in name.items() if k in ("first", "middle", "last") and v is not None},
        "schools": user_schools(user),
        "given_name": name.get("first"),
        "family_name": name.get("last"),
        "email_verified": False,
        "authorized_by": "district",
    }
    return Response(json.dumps(present(info), ensure_ascii=False), mimetype="application/json")


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
        "code_challenge_methods_supported": list(PKCE_METHODS),
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
