"""A district as messy as real ones, deterministic from a seed and sized by its students.

Ratios (after Clever's own ``#DEMO`` district and typical US districts): one teacher per 20
students, one or two contacts per student (siblings share some), each student in six to eight
sections of about 25, one staff member per 100 students, one or two district admins, several
schools (elementary, middle, high), three terms and a course per subject and grade.

The mess is on purpose: shared names, accents, hyphens, straight and curly apostrophes, students
enrolled at two schools, contacts whose whole name is in ``name.last`` (as Clever stores them),
``""`` for fields the SIS left empty, young students without email, and two sections with the
same name in one school.
"""

from __future__ import annotations

import random

from sandbox.generator_people import contacts_of, make_teacher, sections_of, students_of
from sandbox.generator_pools import (
    BAND_LABEL,
    BANDS,
    BASE_TIME,
    DISTRICT_NAME,
    FIRST,
    LAST,
    SCHOOL_NAMES,
    SUBJECTS,
    Maker,
    Obj,
    ascii_fold,
    person,
)
from sandbox.ids import iso


def generate(size: int = 200, seed: int = 1) -> dict[str, list[Obj]]:
    """A roster ``{"districts": [...], "schools": [...], ...}`` of ``size`` students."""
    if size < 1:
        raise ValueError("size must be at least 1 student")
    rng = random.Random(seed)
    make = Maker(rng)
    district_id, _created = make.new("districts", 0)
    admin_names = [
        (rng.choice(FIRST), rng.choice(LAST)) for _ in range(1 + (size >= 1000 or rng.random() < 0.5))
    ]
    district: Obj = {
        "id": district_id,
        "name": DISTRICT_NAME,
        "portal_url": f"https://clever.com/in/demo-sandbox-{district_id[-8:]}",
        "sis_type": "sftp",
        "error": "",
        "launch_date": "2021-03-10",
        "state": "running",
        "last_sync": iso(BASE_TIME + 3600),
        "login_methods": ["Clever Badges", "Clever Passwords"],
        "district_contact": {
            "title": "Director of Technology",
            "district": district_id,
            "email": f"{ascii_fold(admin_names[0][0])}.{ascii_fold(admin_names[0][1])}@district.example.org",
            "name": {"first": admin_names[0][0], "last": admin_names[0][1]},
            "id": make.new("district_contacts", 0)[0],
        },
    }
    schools = _schools(rng, make, district_id, size)
    terms = _terms(make, district_id)
    courses = {
        (label, grade): _course(make, district_id, label, code, grade)
        for grade in (g for band in BANDS.values() for g in band)
        for label, _, code in SUBJECTS
    }
    users: list[Obj] = []
    staff_count = max(1, size // 100)
    for n, (first, last) in enumerate(admin_names):
        user = person(make, district_id, first, last, "district.example.org", offset=5)
        user["roles"] = {
            "district_admin": {"title": "" if n else "Superintendent", "legacy_id": make.new("legacy", 5)[0]}
        }
        users.append(user)
    teachers_by_school: dict[str, list[Obj]] = {}
    students = students_of(rng, make, district_id, schools, size)
    enrolled_at: dict[str, int] = {}
    for student in students:
        school_id = student["roles"]["student"]["school"]
        enrolled_at[school_id] = enrolled_at.get(school_id, 0) + 1
    for school in schools:
        enrolled = enrolled_at.get(school["id"], 0)
        teachers = [make_teacher(rng, make, district_id, school) for _ in range(max(2, -(-enrolled // 20)))]
        teachers_by_school[school["id"]] = teachers
        users.extend(teachers)
    if len(schools) > 1:  # a teacher who teaches at two schools, as in Clever's demo data
        teacher = teachers_by_school[schools[0]["id"]][0]["roles"]["teacher"]
        teacher["schools"].append(schools[1]["id"])
    for n in range(staff_count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = person(make, district_id, first, last, "district.example.org", offset=6)
        chosen = rng.sample([s["id"] for s in schools], k=min(len(schools), 1 + (n % 3 == 0)))
        user["roles"] = {
            "staff": {
                "staff_id": f"S{1000 + n}",
                "title": rng.choice(("Counselor", "Librarian", "Nurse", "Principal", "")),
                "department": rng.choice(("Student Services", "Administration", "")),
                "roles": [],
                "schools": chosen,
                "credentials": {"district_username": f"{ascii_fold(first)}.{ascii_fold(last)}{n}"},
                "legacy_id": make.new("legacy", 6)[0],
            }
        }
        users.append(user)
    users.extend(students)
    users.extend(contacts_of(rng, make, district_id, students))
    sections = sections_of(rng, make, district_id, schools, students, teachers_by_school, courses, terms)
    return {
        "districts": [district],
        "schools": schools,
        "users": users,
        "sections": sections,
        "terms": terms,
        "courses": list(courses.values()),
    }


def _schools(rng: random.Random, make: Maker, district_id: str, size: int) -> list[Obj]:
    count = max(3, min(200, round(size / 600)))
    cycle = ("E", "E", "M", "E", "H")
    bands = ["E", "M", "H"] + [cycle[i % len(cycle)] for i in range(count - 3)]
    used: dict[str, int] = {}
    schools = []
    for n, band in enumerate(bands):
        names = SCHOOL_NAMES[band]
        k = used[band] = used.get(band, -1) + 1
        name = f"{names[k % len(names)]} {BAND_LABEL[band]}" + (
            f" {k // len(names) + 1}" if k >= len(names) else ""
        )
        school_id, created = make.new("schools", 1)
        schools.append(
            {
                "id": school_id,
                "district": district_id,
                "name": name,
                "created": created,
                "last_modified": created,
                "sis_id": str(100 + n),
                "school_number": str(100 + n),
                "state_id": "",
                "nces_id": "",
                "mdr_number": "",
                "phone": f"(555) 010-{1000 + n}",
                "low_grade": BANDS[band][0],
                "high_grade": BANDS[band][-1],
                "location": {
                    "address": f"{100 + 10 * n} Main St",
                    "city": "Springfield",
                    "state": "IL",
                    "zip": "62701",
                },
                "principal": {"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "email": ""},
                "ext": {"band": band},
            }
        )
    return schools


def _terms(make: Maker, district_id: str) -> list[Obj]:
    spans = (
        ("2024-2025 Full Year", "2024-08-26", "2025-06-13"),
        ("2024-2025 Semester 1", "2024-08-26", "2025-01-17"),
        ("2024-2025 Semester 2", "2025-01-21", "2025-06-13"),
    )
    return [
        {"id": make.new("terms", 2)[0], "district": district_id, "name": n, "start_date": a, "end_date": b}
        for n, a, b in spans
    ]


def _course(make: Maker, district_id: str, label: str, code: str, grade: str) -> Obj:
    short = "K" if grade == "Kindergarten" else grade
    return {
        "id": make.new("courses", 3)[0],
        "district": district_id,
        "name": f"{label} {short}",
        "number": f"{code}-{short.zfill(2)}",
    }
