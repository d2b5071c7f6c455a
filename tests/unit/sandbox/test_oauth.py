"""OAuth 2.0 / OIDC as Clever: the login page, codes (single use, 60 s), tokens, scopes, portal."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from flask.testing import FlaskClient

from sandbox.config import Clock
from sandbox.state import SandboxState
from tests.sandbox_fixtures import REDIRECT_URI

CREDENTIALS = ("sandbox-client", "sandbox-secret")


def login(client: FlaskClient, user_id: str, **extra: str) -> dict[str, list[str]]:
    form = {"client_id": "sandbox-client", "redirect_uri": REDIRECT_URI, "login_as": user_id, **extra}
    response = client.post("/oauth/authorize", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def exchange(client: FlaskClient, code: str, **kwargs: Any) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return client.post("/oauth/tokens", data=data, auth=kwargs.pop("auth", CREDENTIALS), **kwargs)


def test_login_page_lists_people_by_role_with_stable_ids(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    page = sandbox_app.test_client().get(
        f"/oauth/authorize?client_id=sandbox-client&redirect_uri={REDIRECT_URI}&state=s&response_type=code"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for role in ("district_admin", "teacher", "student", "staff", "contact"):
        person = sandbox_state.people(role, 1)[0]
        assert f'id="login-{person["id"]}"' in html and f'id="role-{role}"' in html
    student = sandbox_state.people("student", 1)[0]["id"]
    assert sandbox_state.badge_code(student) in html
    assert 'id="badge_code"' in html and 'id="user_id"' in html
    assert "#DEMO Sandbox District" in html


def test_code_flow_echoes_state_and_signs_an_id_token(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    admin = sandbox_state.people("district_admin", 1)[0]
    params = login(client, admin["id"], state="xyz", nonce="n-1")
    assert params["state"] == ["xyz"]
    token = exchange(client, params["code"][0]).get_json()
    key = jwt.PyJWK(client.get("/oauth/certs").get_json()["keys"][0])
    claims = jwt.decode(token["id_token"], key.key, algorithms=["RS256"], audience="sandbox-client")
    assert claims["sub"] == admin["id"] == claims["multi_role_user_id"]
    assert claims["user_type"] == "district admin" and claims["district"] == sandbox_state.district_id
    assert claims["nonce"] == "n-1" and claims["email_verified"] is False
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == client.get("/.well-known/openid-configuration").get_json()["issuer"]


def test_a_replayed_code_is_refused(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    code = login(client, sandbox_state.people("student", 1)[0]["id"])["code"][0]
    assert exchange(client, code).status_code == 200
    replay = exchange(client, code)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(
    sandbox_app: Any, sandbox_state: SandboxState, sandbox_clock: Clock
) -> None:
    client = sandbox_app.test_client()
    fresh = login(client, sandbox_state.people("teacher", 1)[0]["id"])["code"][0]
    stale = login(client, sandbox_state.people("teacher", 1)[0]["id"])["code"][0]
    sandbox_clock.advance(59)
    assert exchange(client, fresh).status_code == 200
    sandbox_clock.advance(2)
    assert exchange(client, stale).get_json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_and_be_registered(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    page = client.get("/oauth/authorize?client_id=sandbox-client&redirect_uri=https://evil.example/cb")
    assert page.status_code == 400 and "Location" not in page.headers
    code = login(client, sandbox_state.people("student", 1)[0]["id"])["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "/other"}
    assert client.post("/oauth/tokens", data=data, auth=CREDENTIALS).status_code == 400


def test_client_secret_post_and_json_bodies(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    student = sandbox_state.people("student", 1)[0]["id"]
    code = login(client, student)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    posted = client.post(
        "/oauth/tokens", data={**form, "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    )
    assert posted.status_code == 200 and posted.get_json()["token_type"] == "bearer"
    code = login(client, student)["code"][0]
    as_json = client.post("/oauth/tokens", json={**form, "code": code}, auth=CREDENTIALS)
    assert as_json.status_code == 200
    code = login(client, student)["code"][0]
    wrong = exchange(client, code, auth=("sandbox-client", "nope"))
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"


def test_user_tokens_read_only_me_self_district_and_userinfo(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    student = sandbox_state.people("student", 2)
    token = exchange(client, login(client, student[0]["id"])["code"][0]).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    own_district = f"/v3.0/districts/{sandbox_state.district_id}"
    allowed = ["/v3.0/me", "/me", f"/v3.0/users/{student[0]['id']}", own_district, "/userinfo"]
    for uri in allowed:
        assert client.get(uri, headers=auth).status_code == 200, uri
    for uri in ["/v3.0/users", f"/v3.0/users/{student[1]['id']}", "/v3.0/sections", "/v3.0/events",
                f"/v3.0/users/{student[0]['id']}/sections"]:  # fmt: skip
        assert client.get(uri, headers=auth).status_code == 403, uri
    district_auth = {"Authorization": f"Bearer {sandbox_state.district_token}"}
    assert client.get("/userinfo", headers=district_auth).status_code == 403
    assert client.get("/v3.0/users", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v3.0/users").status_code == 401


def test_portal_logins_land_on_the_first_redirect_uri_without_state(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    html = client.get("/portal").get_data(as_text=True)
    teacher = sandbox_state.people("teacher", 1)[0]["id"]
    href = re.search(rf'id="instant-login-{teacher}"[^>]*href="([^"]+)"', html)
    assert href is not None
    response = client.get(href.group(1).replace("&amp;", "&"))
    params = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.headers["Location"].startswith(REDIRECT_URI) and set(params) == {"code"}
    assert exchange(client, params["code"][0]).status_code == 200


def test_badges_log_students_in_and_nobody_else(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    student, teacher = (
        sandbox_state.people("student", 1)[0]["id"],
        sandbox_state.people("teacher", 1)[0]["id"],
    )
    form = {"client_id": "sandbox-client", "redirect_uri": REDIRECT_URI}
    ok = client.post(
        "/oauth/authorize", data={**form, "badge_code": sandbox_state.badge_code(student).lower()}
    )
    token = exchange(client, parse_qs(urlsplit(ok.headers["Location"]).query)["code"][0]).get_json()
    assert jwt.decode(token["id_token"], options={"verify_signature": False})["sub"] == student
    refused = client.post("/oauth/authorize", data={**form, "badge_code": sandbox_state.badge_code(teacher)})
    assert refused.status_code == 401


def test_district_tokens_need_the_app_credentials(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    listed = client.get("/oauth/tokens?owner_type=district", auth=CREDENTIALS).get_json()
    assert [t["access_token"] for t in listed["data"]] == [sandbox_state.district_token]
    assert listed["data"][0]["owner"] == {"type": "district", "id": sandbox_state.district_id}
    other = client.get(f"/oauth/tokens?owner_type=district&district={'0' * 24}", auth=CREDENTIALS).get_json()
    assert other["data"] == []
    assert client.get("/oauth/tokens?owner_type=district", auth=("sandbox-client", "x")).status_code == 401


def test_unknown_district_id_is_refused(sandbox_app: Any) -> None:
    page = sandbox_app.test_client().get(
        f"/oauth/authorize?client_id=sandbox-client&redirect_uri={REDIRECT_URI}&district_id={'0' * 24}"
    )
    assert page.status_code == 400
