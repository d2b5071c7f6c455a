"""Roster files: served faithfully when good, refused with the item and field named when bad."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.generator import generate
from sandbox.roster_file import RosterError, load_roster
from sandbox.state import SandboxState

D, S, T, ST, SEC = "a" * 24, "b" * 24, "c" * 24, "d" * 24, "e" * 24


def roster() -> dict[str, list[dict[str, Any]]]:
    return {
        "districts": [{"id": D, "name": "#DEMO File"}],
        "schools": [{"id": S, "district": D, "name": "One"}],
        "users": [
            {
                "id": T,
                "district": D,
                "name": {"first": "Ann", "last": "Lee"},
                "roles": {"teacher": {"school": S}},
            },
            {
                "id": ST,
                "district": D,
                "name": {"first": "Bo", "last": "Ng"},
                "roles": {"student": {"school": S}},
            },
        ],
        "sections": [{"id": SEC, "district": D, "school": S, "name": "Math", "teacher": T, "students": [ST]}],
    }


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "roster.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_a_generated_roster_round_trips_through_a_file(tmp_path: Path) -> None:
    data = generate(80, seed=4)
    app = create_app(SandboxConfig(roster=write(tmp_path, data)))
    state: SandboxState = app.extensions["clever_sandbox"]
    assert sorted(state.store.raw["users"]) == sorted(u["id"] for u in data["users"])
    one = data["users"][-1]
    body = app.test_client().get(
        f"/v3.0/users/{one['id']}", headers={"Authorization": f"Bearer {state.district_token}"}
    )
    assert body.get_json()["data"] == one


def break_(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(roster())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r["users"][1]["roles"]["student"].update(school="f" * 24),
            r"users\[1\].*roles\.student\.school",
        ),
        (
            lambda r: r["users"][1]["roles"]["student"].update(dob="2011-02-03"),
            r"users\[1\].*roles\.student\.dob",
        ),
        (lambda r: r["users"][0].update(roles={"principal": {}}), r"users\[0\].*roles\.principal"),
        (lambda r: r["users"][0].update(id="XYZ"), r"users\[0\]: id"),
        (
            lambda r: r["sections"][0].update(students=[T]),
            r"sections\[0\].*students: user .* has no student role",
        ),
        (lambda r: r["sections"][0].update(grade="Year 7"), r"sections\[0\].*grade"),
        (lambda r: r["schools"][0].update(name=7), r"schools\[0\].*name: expected a string"),
        (lambda r: r["users"].append(copy.deepcopy(r["users"][0])), r"users\[2\]: id: duplicate"),
        (lambda r: r.update(students=[]), r"unknown top-level key.*students"),
        (lambda r: r.update(districts=[]), r"at least one district"),
    ],
)
def test_bad_rosters_name_the_item_and_field(tmp_path: Path, change: Any, expected: str) -> None:
    with pytest.raises(RosterError, match=expected):
        load_roster(write(tmp_path, break_(change)))


def test_not_json_says_where(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="line 1 column"):
        load_roster(write(tmp_path, '{"districts": ['))


def test_empty_strings_and_nulls_are_accepted(tmp_path: Path) -> None:
    data = roster()
    data["users"][1].update(email="", name={"first": None, "last": "Ng"})
    data["sections"][0].update(term_id="", course=None, subject="")
    assert load_roster(write(tmp_path, data))["users"][1]["email"] == ""


def test_references_to_users_the_file_does_not_hold_are_served_with_a_warning(tmp_path: Path) -> None:
    ghost, unknown_child = "9" * 24, "8" * 24
    data = roster()
    data["sections"][0]["students"].append(ghost)
    data["users"].append(
        {
            "id": "7" * 24,
            "district": D,
            "name": {"first": "", "last": "Pat Ng"},
            "roles": {"contact": {"student_relationships": [{"student": unknown_child}]}},
        }
    )
    warnings: list[str] = []
    assert load_roster(write(tmp_path, data), warnings)["sections"][0]["students"] == [ST, ghost]
    assert len(warnings) == 2
    section, contact = sorted(warnings)
    assert ghost in section and section.startswith("sections[0]") and "students" in section
    assert unknown_child in contact and "student_relationships[0].student" in contact

    app = create_app(SandboxConfig(roster=write(tmp_path, data)))
    state: SandboxState = app.extensions["clever_sandbox"]
    body = app.test_client().get(
        f"/v3.0/sections/{SEC}", headers={"Authorization": f"Bearer {state.district_token}"}
    )
    assert body.get_json()["data"]["students"] == [ST, ghost]
    assert app.extensions["clever_sandbox_warnings"] == warnings
