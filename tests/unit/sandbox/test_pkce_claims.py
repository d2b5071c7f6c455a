"""PKCE at the token endpoint, claims left out when a person lacks them, tampered id_tokens."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from flask.testing import FlaskClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.state import SandboxState
from tests.sandbox_fixtures import REDIRECT_URI

CREDENTIALS = ("sandbox-client", "sandbox-secret")
VERIFIER = "v" * 20 + "-._~" + "0123456789" * 2  # 44 characters of RFC 7636's alphabet


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def code_for(client: FlaskClient, user_id: str, **params: str) -> str:
    """Through the login page (GET then POST with its hidden fields), as a browser does."""
    query = {"client_id": "sandbox-client", "redirect_uri": REDIRECT_URI, **params}
    client.delete_cookie("clever_sandbox_session")
    page = client.get(f"/oauth/authorize?{urlencode(query)}")
    assert page.status_code == 200, page.get_data(as_text=True)
    form = {"client_id": "sandbox-client", "redirect_uri": REDIRECT_URI, "login_as": user_id}
    for name in ("code_challenge", "code_challenge_method"):
        marker = f'name="{name}" value="'
        html = page.get_data(as_text=True)
        if marker in html:
            form[name] = html.split(marker, 1)[1].split('"', 1)[0]
    answer = client.post("/oauth/authorize", data=form)
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def exchange(client: FlaskClient, code: str, **extra: str) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    return client.post("/oauth/tokens", data=data, auth=CREDENTIALS)


def claims_of(answer: Any) -> dict[str, Any]:
    token = answer.get_json()["id_token"]
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.fixture
def client(sandbox_app: Any) -> FlaskClient:
    return sandbox_app.test_client()  # type: ignore[no-any-return]


def test_s256_and_plain_challenges_need_their_verifier(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    student = sandbox_state.people("student", 1)[0]["id"]
    code = code_for(client, student, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    assert exchange(client, code, code_verifier=VERIFIER).status_code == 200

    code = code_for(client, student, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    missing = exchange(client, code)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_grant"
    assert "code_verifier is missing" in missing.get_json()["error_description"]
    assert exchange(client, code, code_verifier=VERIFIER).status_code == 400  # the code is spent

    code = code_for(client, student, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    wrong = exchange(client, code, code_verifier=VERIFIER[::-1])
    assert wrong.get_json()["error_description"] == "Invalid grant: code_verifier does not match"

    code = code_for(client, student, code_challenge=VERIFIER)  # no method: plain
    assert exchange(client, code, code_verifier=s256(VERIFIER)).status_code == 400
    code = code_for(client, student, code_challenge=VERIFIER, code_challenge_method="plain")
    assert exchange(client, code, code_verifier=VERIFIER).status_code == 200


def test_bad_challenges_are_refused_and_a_verifier_without_one_is_ignored(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    base = f"/oauth/authorize?client_id=sandbox-client&redirect_uri={REDIRECT_URI}"
    assert client.get(f"{base}&code_challenge={s256(VERIFIER)}&code_challenge_method=S512").status_code == 400
    assert client.get(f"{base}&code_challenge=short&code_challenge_method=S256").status_code == 400
    assert client.get(f"{base}&code_challenge_method=S256").status_code == 400
    # A portal (Clever-initiated) login carries no challenge; a client's verifier is then ignored.
    code = code_for(client, sandbox_state.people("teacher", 1)[0]["id"])
    assert exchange(client, code, code_verifier=VERIFIER).status_code == 200


def test_a_silent_authorize_binds_its_own_challenge(client: FlaskClient, sandbox_state: SandboxState) -> None:
    teacher = sandbox_state.people("teacher", 1)[0]["id"]
    code_for(client, teacher)  # signs this browser in
    query = urlencode(
        {"client_id": "sandbox-client", "redirect_uri": REDIRECT_URI, "code_challenge": s256(VERIFIER),
         "code_challenge_method": "S256", "nonce": "kc"}
    )  # fmt: skip
    silent = client.get(f"/oauth/authorize?{query}")
    code = parse_qs(urlsplit(silent.headers["Location"]).query)["code"][0]
    assert exchange(client, code).status_code == 400
    silent = client.get(f"/oauth/authorize?{query}")
    code = parse_qs(urlsplit(silent.headers["Location"]).query)["code"][0]
    ok = exchange(client, code, code_verifier=VERIFIER)
    assert ok.status_code == 200 and claims_of(ok)["nonce"] == "kc"


def test_claims_a_person_lacks_are_left_out_not_empty(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    student = sandbox_state.people("student", 1)[0]
    sandbox_state.update("users", student["id"], {"email": None, "name": {"first": ""}})
    answer = exchange(client, code_for(client, student["id"]))
    claims = claims_of(answer)
    assert "email" not in claims and "given_name" not in claims
    assert claims["family_name"] == student["name"]["last"] and claims["email_verified"] is False
    assert "" not in claims.values()
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {answer.get_json()['access_token']}"})
    body = info.get_json()
    assert "email" not in body and "given_name" not in body and body["family_name"] == student["name"]["last"]
    assert "" not in [v for k, v in body.items() if k != "name"]
    stored = sandbox_state.store.get("users", student["id"])
    assert stored is not None and body["name"] == stored["name"]  # the record's name object, as stored


def test_userinfo_user_id_is_the_legacy_id_like_the_id_token(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    teacher = sandbox_state.people("teacher", 1)[0]
    legacy = teacher["roles"]["teacher"]["legacy_id"]
    assert legacy != teacher["id"]
    answer = exchange(client, code_for(client, teacher["id"]))
    claims = claims_of(answer)
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {answer.get_json()['access_token']}"})
    body = info.get_json()
    assert claims["user_id"] == body["user_id"] == legacy
    assert claims["sub"] == claims["multi_role_user_id"] == body["sub"] == body["multi_role_user_id"]
    assert body["sub"] == teacher["id"]


def _signature_ok(client: FlaskClient, token: str) -> bool:
    keys = client.get("/oauth/certs").get_json()["keys"]
    (key,) = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]]  # the JWKS's kid
    try:
        jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="sandbox-client")
    except jwt.InvalidSignatureError:
        return False
    return True


def test_tampered_id_tokens_are_signed_with_a_key_not_in_the_jwks(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    student = sandbox_state.people("student", 1)[0]["id"]
    assert _signature_ok(client, exchange(client, code_for(client, student)).get_json()["id_token"])
    sandbox_state.tamper_id_token = True
    assert not _signature_ok(client, exchange(client, code_for(client, student)).get_json()["id_token"])
    sandbox_state.tamper_id_token = False
    assert _signature_ok(client, exchange(client, code_for(client, student)).get_json()["id_token"])


@pytest.mark.parametrize(
    "config", [SandboxConfig(size=10, tamper_id_token=True), SandboxConfig(size=10, faults="bad_signature=1")]
)
def test_the_tamper_knobs_of_the_config(config: SandboxConfig) -> None:
    app = create_app(config)
    state: SandboxState = app.extensions["clever_sandbox"]
    client = app.test_client()
    code = code_for(client, state.people("student", 1)[0]["id"])
    assert not _signature_ok(client, exchange(client, code).get_json()["id_token"])
    assert app.extensions["clever_sandbox_faults"] is None  # no Data API faults came with it
