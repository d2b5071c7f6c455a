"""Every kind of sandbox answer validates against Clever's Swagger files; so do Clever's recorded samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.state import SandboxState
from tests.sandbox_fixtures import shared_dir
from tests.unit.sandbox.spec import errors, load_spec, response_definition


@pytest.fixture
def spec_path() -> Path:
    return shared_dir() / "clever-spec" / "v3.0.yml"


@pytest.fixture
def events_spec_path() -> Path:
    return shared_dir() / "clever-spec" / "v3.0-events.yml"


def _ids_for(state: SandboxState) -> dict[str, str]:
    """An id per path parameter kind, picked so every relation has something to return."""
    section = state.store.get("sections", state.store.ids("all", "sections", state.district_id)[0])
    assert section is not None
    return {
        "courses": section["course"],
        "districts": state.district_id,
        "schools": section["school"],
        "sections": section["id"],
        "terms": section["term_id"],
        "users": section["teacher"],
        "resources": "0" * 24,
    }


def test_every_data_path_answers_as_the_spec_says(
    client: FlaskClient, sandbox_state: SandboxState, spec_path: Path
) -> None:
    spec = load_spec(spec_path)
    ids = _ids_for(sandbox_state)
    student = sandbox_state.people("student", 1)[0]["id"]
    contact = sandbox_state.people("contact", 1)[0]["id"]
    checked = 0
    for path in spec["paths"]:
        kind = path.split("/")[1]
        subjects = [ids[kind]]
        if kind == "users" and "{id}/" in path:
            subjects += [student, contact]  # mycontacts/myteachers need a student, mystudents a contact
        for subject in subjects:
            response = client.get(
                f"/v3.0{path.replace('{id}', subject)}?limit=5", headers=_auth(sandbox_state)
            )
            if kind == "resources" and "{id}" in path:
                assert response.status_code == 404  # the sandbox shares no resources
                assert not errors(spec_path, "NotFound", response.get_json())
                continue
            assert response.status_code == 200, (path, response.get_data(as_text=True))
            body = response.get_json()
            assert not errors(spec_path, response_definition(spec, path), body), path
            checked += 1
    assert checked >= 42


def test_lists_carry_data_of_every_role_and_validate(
    client: FlaskClient, sandbox_state: SandboxState, spec_path: Path
) -> None:
    for role in ("student", "teacher", "staff", "district_admin", "contact"):
        body = client.get(f"/v3.0/users?role={role}&limit=10000", headers=_auth(sandbox_state)).get_json()
        assert body["data"], role
        assert all(role in item["data"]["roles"] for item in body["data"])
        assert not errors(spec_path, "UsersResponse", body), role
    for kind in ("sections", "schools", "terms", "courses", "districts"):
        definition = f"{kind.capitalize()}Response"
        body = client.get(f"/v3.1/{kind}?limit=10000", headers=_auth(sandbox_state)).get_json()
        assert body["data"] and all(item["uri"].startswith(f"/v3.1/{kind}/") for item in body["data"])
        assert not errors(spec_path, definition, body), kind


def test_error_answers_validate(client: FlaskClient, sandbox_state: SandboxState, spec_path: Path) -> None:
    missing = client.get(f"/v3.0/users/{'f' * 24}", headers=_auth(sandbox_state))
    assert missing.status_code == 404
    assert not errors(spec_path, "NotFound", missing.get_json())
    bad = client.get("/v3.0/users?role=principal", headers=_auth(sandbox_state))
    assert bad.status_code == 400
    assert not errors(spec_path, "BadRequest", bad.get_json())


def test_events_of_every_verb_validate(
    client: FlaskClient, sandbox_state: SandboxState, events_spec_path: Path
) -> None:
    student = sandbox_state.people("student", 1)[0]
    sections = sandbox_state.store.ids("user_sections", student["id"])
    other = next(
        s for s in sandbox_state.store.ids("all", "sections", sandbox_state.district_id) if s not in sections
    )
    sandbox_state.update("users", student["id"], {"name": {"first": "Zoë"}, "email": ""})
    sandbox_state.move_student(student["id"], sections[0], other)
    created = sandbox_state.create("courses", {"name": "Latin 9", "number": "LAT-09"})
    sandbox_state.delete("courses", created["id"])
    sandbox_state.delete("users", student["id"])
    body = client.get("/v3.0/events?limit=100", headers=_auth(sandbox_state)).get_json()
    types = {item["data"]["type"] for item in body["data"]}
    assert {
        "users.updated",
        "sections.updated",
        "courses.created",
        "courses.deleted",
        "users.deleted",
    } <= types
    assert not errors(events_spec_path, "EventsResponse", body)
    for item in body["data"]:
        event = item["data"]
        assert not errors(events_spec_path, event["type"], event), event["type"]
        single = client.get(item["uri"], headers=_auth(sandbox_state)).get_json()
        assert single["data"] == event
        assert not errors(events_spec_path, "EventResponse", single)


SAMPLE_DEFINITIONS = {
    "v3.0-districts-list.json": "DistrictsResponse",
    "v3.0-users-list-envelope-first2.json": "UsersResponse",
    "v3.0-user-student.json": "UserResponse",
    "v3.0-user-teacher.json": "UserResponse",
    "v3.0-user-contact.json": "UserResponse",
    "v3.0-user-district-admin.json": "UserResponse",
    "v3.0-section.json": "SectionResponse",
}


def test_every_recorded_sample_parses_under_the_same_rules(spec_path: Path) -> None:
    samples = shared_dir() / "clever-samples"
    files = sorted(p.name for p in samples.glob("*.json"))
    assert set(SAMPLE_DEFINITIONS) <= set(files)
    for name, definition in SAMPLE_DEFINITIONS.items():
        assert not errors(spec_path, definition, json.loads((samples / name).read_text())), name
    events = json.loads((samples / "v1.2-events-list.json").read_text())
    assert {link["rel"] for link in events["links"]} <= {"self", "next", "prev"}
    for item in events["data"]:
        assert set(item) == {"data", "uri"} and item["uri"].endswith(item["data"]["id"])
        assert set(item["data"]) == {"id", "type", "created", "data"}
        assert set(item["data"]["data"]) <= {"object", "previous_attributes"}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value and isinstance(value[0], dict) else "list"
    return type(value).__name__


def test_me_userinfo_and_token_list_have_the_recorded_shapes(
    client: FlaskClient, sandbox_state: SandboxState
) -> None:
    samples = shared_dir() / "clever-samples"
    teacher = sandbox_state.people("teacher", 1)[0]["id"]
    code = sandbox_state.issue_code(teacher, "http://app.example.test/callback")
    grant = sandbox_state.redeem_code(code, None)
    assert grant is not None
    user_auth = {"Authorization": f"Bearer {sandbox_state.issue_user_token(grant)}"}
    me = client.get("/v3.0/me", headers=user_auth).get_json()
    assert _shape(me) == _shape(json.loads((samples / "v3.0-me-user-token.json").read_text()))
    assert [link["rel"] for link in me["links"]] == ["self", "canonical", "district"]
    info = client.get("/userinfo", headers=user_auth).get_json()
    recorded = json.loads((samples / "userinfo-oidc.json").read_text())
    assert set(info) == set(recorded) and set(info["name"]) == set(recorded["name"])
    assert info["user_type"] == "teacher" and info["email_verified"] is False
    tokens = client.get(
        "/oauth/tokens?owner_type=district", auth=("sandbox-client", "sandbox-secret")
    ).get_json()
    assert _shape(tokens) == _shape(json.loads((samples / "oauth-tokens-district-list.json").read_text()))


@pytest.fixture
def client(sandbox_app: Any) -> FlaskClient:
    return sandbox_app.test_client()  # type: ignore[no-any-return]


def _auth(state: SandboxState) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.district_token}"}
