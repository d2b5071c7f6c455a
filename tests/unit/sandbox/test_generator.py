"""The generated district: deterministic, realistic ratios, and the mess real districts have."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sandbox.generator import generate


def role_of(users: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [u for u in users if role in u["roles"]]


def test_same_seed_same_district_other_seed_other_district() -> None:
    assert json.dumps(generate(300, seed=5)) == json.dumps(generate(300, seed=5))
    assert json.dumps(generate(300, seed=5)) != json.dumps(generate(300, seed=6))


def test_ratios() -> None:
    size = 3000
    roster = generate(size, seed=2)
    users = roster["users"]
    students, teachers = role_of(users, "student"), role_of(users, "teacher")
    contacts, admins = role_of(users, "contact"), role_of(users, "district_admin")
    assert len(students) == size
    assert size / 25 <= len(teachers) <= size / 15
    links = sum(len(c["roles"]["contact"]["student_relationships"]) for c in contacts)
    assert size <= links <= 2 * size and len(contacts) < links  # siblings share some contacts
    per_student = Counter(s for sec in roster["sections"] for s in sec["students"])
    assert set(per_student.values()) <= {6, 7, 8} and len(per_student) == size
    assert 1 <= len(admins) <= 2 and role_of(users, "staff")
    assert len(roster["schools"]) >= 3 and len(roster["terms"]) >= 2 and roster["courses"]
    assert len({u["id"] for u in users}) == len(users)


def test_the_mess_is_there() -> None:
    roster = generate(200, seed=1)
    users = roster["users"]
    students = role_of(users, "student")
    names = Counter((u["name"]["first"], u["name"]["last"]) for u in students)
    assert names.most_common(1)[0][1] >= 2  # shared names
    text = json.dumps(roster, ensure_ascii=False)
    assert any(c in text for c in "éëøñ") and "O'" in text and "O’" in text and "-" in text
    assert any(len(s["roles"]["student"]["schools"]) == 2 for s in students)
    assert any("email" not in s for s in students) and any(s.get("email") == "" for s in students)
    contacts = role_of(users, "contact")
    assert all(set(c["name"]) == {"last"} and " " in c["name"]["last"] for c in contacts)
    per_school = Counter((s["school"], s["name"]) for s in roster["sections"])
    assert per_school.most_common(1)[0][1] >= 2  # two sections with the same name in one school
    dobs = [s["roles"]["student"]["dob"] for s in students]
    assert all(len(d.split("/")) == 3 and not d.startswith("0") for d in dobs)
    assert roster["districts"][0]["name"] == "#DEMO Sandbox District"
