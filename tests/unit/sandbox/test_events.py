"""Roster changes produce Clever's events: created/updated/deleted, previous_attributes, filters."""

from __future__ import annotations

from typing import Any

from sandbox.config import Clock
from sandbox.state import SandboxState

CREDENTIALS = ("sandbox-client", "sandbox-secret")


def events(client: Any, state: SandboxState, query: str = "") -> list[dict[str, Any]]:
    body = client.get(
        f"/v3.0/events?limit=10000{query}", headers={"Authorization": f"Bearer {state.district_token}"}
    )
    return [item["data"] for item in body.get_json()["data"]]


def test_an_update_carries_only_the_changed_fields_old_values(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    student = sandbox_state.people("student", 1)[0]
    old_grade = student["roles"]["student"]["grade"]
    sandbox_state.update(
        "users", student["id"], {"name": {"first": "Zoë"}, "roles": {"student": {"grade": "Other"}}}
    )
    (event,) = events(sandbox_app.test_client(), sandbox_state)
    assert event["type"] == "users.updated"
    assert event["data"]["previous_attributes"] == {
        "name": {"first": student["name"]["first"]},
        "roles": {"student": {"grade": old_grade}},
    }
    assert event["data"]["object"]["name"]["first"] == "Zoë"
    assert (
        sandbox_state.update("users", student["id"], {"name": {"first": "Zoë"}}) == []
    )  # no change, no event


def test_move_student_and_delete_cascade(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    student = sandbox_state.people("student", 1)[0]["id"]
    mine = list(sandbox_state.store.ids("user_sections", student))
    other = next(
        s for s in sandbox_state.store.ids("all", "sections", sandbox_state.district_id) if s not in mine
    )
    moved = sandbox_state.move_student(student, mine[0], other)
    assert [e["type"] for e in moved] == ["sections.updated", "sections.updated"]
    assert student in moved[0]["data"]["previous_attributes"]["students"]
    assert student not in moved[1]["data"]["previous_attributes"]["students"]
    contacts = list(sandbox_state.store.ids("mycontacts", student))
    removed = sandbox_state.delete("users", student)
    assert removed[-1]["type"] == "users.deleted" and removed[-1]["data"]["object"]["id"] == student
    assert sum(e["type"] == "sections.updated" for e in removed) == len(mine)  # left every section
    assert sum(e["type"] == "users.updated" for e in removed) == len(contacts)  # and every contact's list
    ids = [e["id"] for e in events(sandbox_app.test_client(), sandbox_state)]
    assert ids == sorted(ids) and all(len(i) == 24 for i in ids)
    answer = sandbox_app.test_client().get(
        f"/v3.0/users/{student}", headers={"Authorization": f"Bearer {sandbox_state.district_token}"}
    )
    assert answer.status_code == 404


def test_record_type_and_school_filters(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    students = sandbox_state.people("student")
    a = students[0]
    b = next(s for s in students if s["roles"]["student"]["school"] != a["roles"]["student"]["school"])
    sandbox_state.update("users", a["id"], {"email": "a@example.org"})
    sandbox_state.update("users", b["id"], {"email": "b@example.org"})
    course = sandbox_state.create("courses", {"name": "Latin"})
    assert [e["type"] for e in events(client, sandbox_state, "&record_type=courses")] == ["courses.created"]
    both = events(client, sandbox_state, "&record_type=courses&record_type=users")
    assert len(both) == 3
    school = a["roles"]["student"]["school"]
    only_a = events(client, sandbox_state, f"&school={school}")
    assert [e["data"]["object"]["id"] for e in only_a] == [a["id"]]
    assert course["id"] not in str(only_a)


def test_events_page_and_expire_after_30_days(
    sandbox_app: Any, sandbox_state: SandboxState, sandbox_clock: Clock
) -> None:
    client = sandbox_app.test_client()
    for n, student in enumerate(sandbox_state.people("student", 5)):
        sandbox_state.update("users", student["id"], {"email": f"s{n}@example.org"})
    everything = [e["id"] for e in events(client, sandbox_state)]
    auth = {"Authorization": f"Bearer {sandbox_state.district_token}"}
    page = client.get(f"/v3.0/events?limit=2&starting_after={everything[0]}", headers=auth).get_json()
    assert [i["data"]["id"] for i in page["data"]] == everything[1:3]
    assert any(link["rel"] == "next" for link in page["links"])
    sandbox_clock.advance(31 * 24 * 3600)
    assert events(client, sandbox_state) == []


def test_the_mutation_endpoint_needs_credentials_and_reports_errors(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    school = sandbox_state.store.ids("all", "schools", sandbox_state.district_id)[0]
    new_student = {
        "name": {"first": "Nia", "last": "O’Neil"},
        "roles": {"student": {"school": school, "schools": [school]}},
    }
    op = {"op": "create", "kind": "users", "object": new_student}
    assert client.post("/sandbox/mutations", json=op).status_code == 401
    created = client.post("/sandbox/mutations", json=op, auth=CREDENTIALS).get_json()["events"]
    assert created[0]["type"] == "users.created"
    assert sandbox_state.user_for_badge(sandbox_state.badge_code(created[0]["data"]["object"]["id"]))
    bad = client.post(
        "/sandbox/mutations", json={"op": "delete", "kind": "users", "id": "0" * 24}, auth=CREDENTIALS
    )
    assert bad.status_code == 400 and "no users" in bad.get_json()["message"]
    invalid = {"op": "update", "kind": "users", "id": created[0]["data"]["object"]["id"],
               "changes": {"roles": {"student": {"school": "f" * 24}}}}  # fmt: skip
    refused = client.post("/sandbox/mutations", json=invalid, auth=CREDENTIALS)
    assert refused.status_code == 400 and "roles.student.school" in refused.get_json()["message"]
