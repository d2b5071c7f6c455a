"""/v3.1 serves a student's v3.1 fields from the roster file; /v3.0 serves them without. Both
answers validate against Clever's own spec files (``../shared/clever-spec/v3.0.yml``, ``v3.1.yml``),
which are strict about unknown fields; the field list matches what v3.1's spec adds."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from connectors.clever_parse import parse
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.versions import V31_STUDENT_FIELDS, V31_USER_FIELDS
from tests.sandbox_fixtures import shared_dir
from tests.unit.sandbox.spec import errors
from tests.unit.sandbox.test_roster_file import ST, roster

V31 = {
    "preferred_name": {"first": "Bobby", "middle": None, "last": ""},
    "iep_status": "Y",
    "frl_status": "Reduced",
    "disability": {"disability_status": "Y", "disability_type": "Autism"},
    "section_504_status": "N",
    "gifted_status": "Y",
    "home_language": "Icelandic",
    "home_language_code": "isl",
}


def _spec(name: str) -> Path:
    return shared_dir() / "clever-spec" / name


def test_the_v3_1_field_list_is_what_clever_s_v3_1_spec_adds() -> None:
    def fields(name: str, definition: str) -> set[str]:
        return set(yaml.safe_load(_spec(name).read_text())["definitions"][definition]["properties"])

    assert set(V31_STUDENT_FIELDS) == fields("v3.1.yml", "Student") - fields("v3.0.yml", "Student")
    assert set(V31_USER_FIELDS) == fields("v3.1.yml", "User") - fields("v3.0.yml", "User")


def test_v3_1_serves_the_student_s_v3_1_fields_and_v3_0_leaves_them_out(tmp_path: Path) -> None:
    data = roster()
    data["users"][1]["roles"]["student"].update(V31)
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(data))
    app = create_app(SandboxConfig(roster=path))
    token = app.extensions["clever_sandbox"].district_token
    auth = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for version, spec in (("v3.1", "v3.1.yml"), ("v3.0", "v3.0.yml")):
        listed = client.get(f"/{version}/users?role=student", headers=auth).get_json()
        assert not errors(_spec(spec), "UsersResponse", listed), version
        single = client.get(f"/{version}/users/{ST}", headers=auth).get_json()
        assert not errors(_spec(spec), "UserResponse", single), version
        student = listed["data"][0]["data"]["roles"]["student"]
        assert single["data"]["roles"]["student"] == student
        if version == "v3.1":
            assert {k: student[k] for k in V31} == V31
        else:
            assert not set(V31) & set(student)


def test_the_parser_reads_the_preferred_name_and_none_of_the_sensitive_fields() -> None:
    user = roster()["users"][1]
    user["roles"]["student"].update(V31)
    record = parse("users", user)
    assert record.preferred_first_name == "Bobby"  # type: ignore[union-attr]
    shown = repr(record)
    assert [value for value in ("Reduced", "Autism", "Icelandic", "isl") if value in shown] == []
