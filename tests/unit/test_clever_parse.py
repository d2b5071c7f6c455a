"""Clever JSON -> records: the recorded samples, ``""``/null/missing alike, bad items named."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connectors.clever_http import next_url
from connectors.clever_parse import (
    parse,
    parse_district_tokens,
    parse_event,
    parse_me,
    parse_section,
    parse_term,
    parse_user,
    parse_userinfo,
)
from model.base import ConfigError, RecordError
from model.records import District, Role, Section, User

API = "https://api.example"
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "clever-samples"


def _samples_dir() -> Path:
    if not SAMPLES.is_dir():
        reason = f"the shared Clever samples are not at {SAMPLES}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return SAMPLES


def _sample(name: str) -> Any:
    return json.loads((_samples_dir() / name).read_text(encoding="utf-8"))


def _records_of(name: str, body: Any) -> list[object]:
    """Whatever records a sample file holds, by the kind of payload it is."""
    if name.startswith("oauth-tokens"):
        return list(parse_district_tokens(body))
    if name.startswith("userinfo"):
        return [parse_userinfo(body)]
    if "-me-" in name:
        return [parse_me(body)]
    if "events" in name:
        return [parse_event(item["data"]) for item in body["data"]]
    items = body["data"] if isinstance(body["data"], list) else [body]
    kind = "sections" if "section" in name else "districts" if "district" in name.split("-")[1] else "users"
    return [parse(kind, item["data"]) for item in items]


def test_every_sample_file_parses_into_records() -> None:
    files = sorted(_samples_dir().glob("*.json"))
    assert files
    for path in files:
        records = _records_of(path.name, json.loads(path.read_text(encoding="utf-8")))
        assert records, path.name


def test_student_sample() -> None:
    user = parse_user(_sample("v3.0-user-student.json")["data"])
    assert user.clever_id == "5a25ffb0c1bc2a00360003ee"
    assert user.roles == frozenset({Role.STUDENT})
    assert (user.first_name, user.middle_name, user.last_name) == ("Douglas", "S", "Wisoky")
    assert user.schools == ("5a25ff950a5f621109000004", "5a25ff950a5f621109000005")
    assert user.primary_school == "5a25ff950a5f621109000004"
    assert user.district_username == "douglasw58"
    assert (user.grade, user.graduation_year, user.student_number) == ("9", "", "101565758")
    assert user.sis_id == "101565758"


def test_teacher_sample() -> None:
    user = parse_user(_sample("v3.0-user-teacher.json")["data"])
    assert user.has(Role.TEACHER) and not user.has(Role.STUDENT)
    assert (user.teacher_number, user.title, user.sis_id) == ("230186", "Grade 9 English Teacher", "47")


def test_contact_sample_keeps_the_full_name_in_last() -> None:
    user = parse_user(_sample("v3.0-user-contact.json")["data"])
    assert user.roles == frozenset({Role.CONTACT})
    assert (user.first_name, user.last_name) == ("", "Jonathan Dicki")
    assert user.schools == ()
    assert [r.student for r in user.student_relationships] == [
        "5a25ffb1c1bc2a00360005c3",
        "5a25ffb2c1bc2a00360006da",
    ]
    assert user.student_relationships[0].type == "Family"
    assert (user.phone, user.phone_type) == ("", "Other")


def test_district_admin_sample() -> None:
    user = parse_user(_sample("v3.0-user-district-admin.json")["data"])
    assert user.roles == frozenset({Role.DISTRICT_ADMIN})
    assert user.email == "vicky.enalen@clever.com"


def test_section_sample_puts_the_primary_teacher_among_teachers() -> None:
    section = parse_section(_sample("v3.0-section.json")["data"])
    assert isinstance(section, Section)
    assert section.teacher == section.teachers[0] == "603ebb2ab452fb006c763989"
    assert len(section.teachers) == 4 and len(section.students) == 16
    assert (section.term_id, section.course) == ("603ebb2ab452fb006c763964", "5a25ff963829500a3400020f")


def test_district_sample() -> None:
    (district,) = [parse("districts", i["data"]) for i in _sample("v3.0-districts-list.json")["data"]]
    assert district == District(
        clever_id="5a0c91b95c7cc000010d417c",
        name="#DEMO_DISTRICT",
        login_methods=("Clever Badges", "Clever Passwords"),
    )


def test_me_and_userinfo_samples() -> None:
    me = parse_me(_sample("v3.0-me-user-token.json"))
    assert (me.user_id, me.district, me.type) == (
        "62027798269867124d10259e",
        "6202763c8243d2100123dae5",
        "user",
    )
    info = parse_userinfo(_sample("userinfo-oidc.json"))
    assert (info.user_id, info.district, info.type) == (
        "64f0e2926b100a053fc08e14",
        "64ef5e6c8d6b17762d094e48",
        "teacher",
    )


def test_district_token_sample_hides_the_token_in_repr() -> None:
    (token,) = parse_district_tokens(_sample("oauth-tokens-district-list.json"))
    assert token.district == "12341b95c7cc000010d417c"
    assert "read:students" in token.scopes
    assert token.access_token not in repr(token)


def test_legacy_events_sample() -> None:
    events = [parse_event(i["data"]) for i in _sample("v1.2-events-list.json")["data"]]
    first = events[0]
    assert (first.event_id, first.collection, first.action) == (
        "594301ff7f264e3ca45e568b",
        "students",
        "updated",
    )
    assert isinstance(first.record, User) and first.record.clever_id == "58c81dcea3627927150003ed"
    assert "name" in first.previous_attributes and "dob" in first.previous_attributes
    created = events[-1]
    assert created.action == "created" and created.previous_attributes == ()
    assert isinstance(created.record, User) and created.record.first_name == "Mia"


def test_v3_event_with_previous_attributes_beside_data() -> None:
    event = parse_event(
        {
            "id": "e1",
            "type": "sections.updated",
            "created": "2024-01-01T00:00:00.000Z",
            "data": {"object": {"id": "s1", "school": "k1", "name": "Math"}},
            "previous_attributes": {"name": "Maths", "students": []},
        }
    )
    assert isinstance(event.record, Section) and event.record.name == "Math"
    assert event.previous_attributes == ("name", "students")


def test_a_section_update_tells_the_section_as_it_was() -> None:
    after = {
        "id": "s1",
        "school": "k1",
        "name": "Math",
        "teacher": "t2",
        "students": ["a", "c"],
        "period": "2",
    }
    event = parse_event(
        {
            "id": "e3",
            "type": "sections.updated",
            "data": {
                "object": after,
                "previous_attributes": {"teacher": "t1", "students": ["a", "b"], "period": None},
            },
        }
    )
    assert isinstance(event.previous, Section)
    assert (event.previous.teacher, event.previous.students, event.previous.period) == ("t1", ("a", "b"), "")
    assert event.previous.name == "Math"  # unchanged fields are the object's
    created = parse_event({"id": "e4", "type": "sections.created", "data": {"object": after}})
    assert created.previous is None


def test_resource_events_carry_no_record() -> None:
    event = parse_event({"id": "e2", "type": "resources.created", "data": {"object": {"id": "r"}}})
    assert event.record is None and event.collection == "resources"


@pytest.mark.parametrize("empty", ["", None, "missing"])
def test_empty_string_null_and_missing_are_alike(empty: Any) -> None:
    def value(key: str) -> dict[str, Any]:
        return {} if empty == "missing" else {key: empty}

    user = parse_user(
        {
            "id": "u1",
            **value("district"),
            **value("email"),
            "name": {**value("first"), "last": "Ng", **value("middle")},
            "roles": {
                "student": {
                    **value("school"),
                    **value("schools"),
                    **value("grade"),
                    **value("credentials"),
                    **value("graduation_year"),
                },
                "contact": {**value("student_relationships"), **value("phone")},
            },
        }
    )
    assert user == User(
        clever_id="u1", district="", last_name="Ng", roles=frozenset({Role.STUDENT, Role.CONTACT})
    )
    assert parse_user({"id": "u2", **value("name"), **value("roles")}) == User(clever_id="u2", district="")
    section = parse_section({"id": "s1", **value("teacher"), **value("teachers"), **value("students")})
    assert (section.teacher, section.teachers, section.students, section.name) == ("", (), (), "")


def test_a_null_role_is_no_role_and_unknown_roles_are_ignored() -> None:
    user = parse_user({"id": "u", "roles": {"teacher": None, "librarian": {}, "staff": {"schools": ["k"]}}})
    assert user.roles == frozenset({Role.STAFF}) and user.schools == ("k",)


def test_primary_school_comes_first_and_schools_are_unique() -> None:
    user = parse_user(
        {"id": "u", "roles": {"student": {"school": "b", "schools": ["a", "b", "", None]}, "teacher": {}}}
    )
    assert user.schools == ("b", "a")


def test_numbers_become_text_and_term_dates_become_dates() -> None:
    user = parse_user({"id": "u", "roles": {"student": {"graduation_year": 2031, "grade": 9}}})
    assert (user.graduation_year, user.grade) == ("2031", "9")
    for raw in ("2015-08-25", "2015-08-25T00:00:00.000Z", "2015-08-25 00:00:00.000000"):
        assert parse_term({"id": "t", "start_date": raw}).start_date == "2015-08-25"


@pytest.mark.parametrize(
    ("kind", "item", "clever_id"),
    [
        ("users", {"name": {"first": "A"}}, ""),
        ("users", "not an object", ""),
        ("users", {"id": "u9", "roles": ["student"]}, "u9"),
        ("users", {"id": "u9", "name": "Ada"}, "u9"),
        ("users", {"id": "u9", "roles": {"contact": {"student_relationships": [{"type": "x"}]}}}, "u9"),
        ("sections", {"id": "s9", "students": "a,b"}, "s9"),
        ("schools", {"id": "k9", "name": {"x": 1}}, "k9"),
    ],
)
def test_a_bad_item_is_a_record_error_naming_kind_and_id(kind: str, item: Any, clever_id: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse(kind, item)
    assert (caught.value.kind, caught.value.clever_id) == (kind, clever_id)


def test_a_bad_event_names_the_event() -> None:
    with pytest.raises(RecordError) as caught:
        parse_event({"id": "e9", "type": "users.updated", "data": {"object": {"roles": {}}}})
    assert (caught.value.kind, caught.value.clever_id) == ("events", "e9")


def test_a_next_link_without_limit_or_filters_gets_them_back() -> None:
    own = {"limit": "500", "role": "student"}
    body = {"links": [{"rel": "next", "uri": "/v3.0/users?starting_after=abc"}]}
    assert next_url(body, own, API) == f"{API}/v3.0/users?starting_after=abc&limit=500&role=student"
    kept = {"links": [{"rel": "next", "uri": "/v3.0/users?limit=7&starting_after=abc"}]}
    assert next_url(kept, own, API) == f"{API}/v3.0/users?limit=7&starting_after=abc&role=student"
    types = {"record_type": ["users", "sections"]}
    assert next_url(body, types, API) == (
        f"{API}/v3.0/users?starting_after=abc&record_type=users&record_type=sections"
    )
    assert next_url({"links": [{"rel": "self", "uri": "/v3.0/users"}]}, own, API) is None


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example.org/v3.0/users?starting_after=abc",
        "//evil.example.org/v3.0/users?starting_after=abc",
        API.replace("https://", "http://") + "/v3.0/users?starting_after=abc",
        API + ":8443/v3.0/users",
    ],
)
def test_a_next_link_to_another_host_or_scheme_is_refused(uri: str) -> None:
    with pytest.raises(ConfigError, match="next link leaves"):
        next_url({"links": [{"rel": "next", "uri": uri}]}, {}, API)


def test_an_absolute_next_link_on_the_api_host_is_followed() -> None:
    body = {"links": [{"rel": "next", "uri": f"{API}/v3.0/users?starting_after=abc"}]}
    assert next_url(body, {}, API) == f"{API}/v3.0/users?starting_after=abc"
