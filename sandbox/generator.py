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

import functools
import random
import unicodedata
from typing import Any

from sandbox.ids import iso, object_id

Obj = dict[str, Any]

DISTRICT_NAME = "#DEMO Sandbox District"
BASE_TIME = 1614723893  # 2021-03-02T22:24:53Z, when Clever's own demo district was last rebuilt
FIRST = [
    "Ava",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Mateo",
    "Sofía",
    "José",
    "Zoë",
    "Chloé",
    "André",
    "Renée",
    "Łukasz",
    "Søren",
    "Aaliyah",
    "Jamal",
    "Mía",
    "Nuño",
    "Ethan",
    "Maya",
    "Lucas",
    "Amelia",
    "Kai",
    "Isabella",
    "Elijah",
    "Harper",
    "Omar",
    "Fatima",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Grace",
    "Henry",
    "Leah",
    "Daniel",
    "Nora",
    "Samuel",
    "Ella",
    "Mohammed",
    "Layla",
    "Diego",
    "Camila",
    "Jack",
    "Lily",
    "Owen",
    "Zara",
    "Ana-Lucía",
    "Jean-Luc",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "García",
    "Miller",
    "Davis",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "Nguyễn",
    "O'Brien",
    "O’Connor",
    "D'Angelo",
    "Smith-Jones",
    "Lee-Park",
    "Müller",
    "Øberg",
    "Kim",
    "Patel",
    "Chen",
    "Wang",
    "Khan",
    "Ali",
    "Okafor",
    "Adeyemi",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Martin",
    "Moore",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
]
SCHOOL_NAMES = {
    "E": [
        "Lincoln",
        "Maple",
        "Cedar",
        "Riverside",
        "Oak",
        "Hill",
        "Willow",
        "Creek",
        "Sunnyvale",
        "Pine",
        "Grove",
        "Brookside",
        "Meadow",
    ],
    "M": ["Roosevelt", "Jefferson", "Franklin", "Madison", "Hamilton", "Adams"],
    "H": ["Washington", "Kennedy", "Central", "Northview", "Eastside"],
}
BANDS = {"E": ("Kindergarten", "1", "2", "3", "4", "5"), "M": ("6", "7", "8"), "H": ("9", "10", "11", "12")}
BAND_LABEL = {"E": "Elementary School", "M": "Middle School", "H": "High School"}
SUBJECTS = (
    ("Homeroom", "homeroom/advisory", "HR"),
    ("English", "english/language arts", "ELA"),
    ("Math", "math", "MATH"),
    ("Science", "science", "SCI"),
    ("Social Studies", "social studies", "SS"),
    ("Spanish", "language", "SPAN"),
    ("PE and Health", "PE and health", "PE"),
    ("Art", "arts and music", "ART"),
    ("Computer Science", "technology and engineering", "CS"),
)
RACES = (
    "Caucasian",
    "Asian",
    "Black or African American",
    "American Indian",
    "Two or More Races",
    "Unknown",
    "",
)


@functools.cache  # names come from small pools: fold each once
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


class _Maker:
    """Ids and timestamps per kind: each kind its own machine bytes, counters ascending."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._machines: dict[str, int] = {}
        self._counters: dict[str, int] = {}

    def new(self, kind: str, offset: int) -> tuple[str, str]:
        machine = self._machines.setdefault(kind, self._rng.getrandbits(40))
        counter = self._counters[kind] = self._counters.get(kind, 0) + 1
        stamp = BASE_TIME + offset
        return object_id(stamp, machine, counter), iso(stamp + counter / 1000)


def generate(size: int = 200, seed: int = 1) -> dict[str, list[Obj]]:
    """A roster ``{"districts": [...], "schools": [...], ...}`` of ``size`` students."""
    if size < 1:
        raise ValueError("size must be at least 1 student")
    rng = random.Random(seed)
    make = _Maker(rng)
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
            "email": f"{_ascii(admin_names[0][0])}.{_ascii(admin_names[0][1])}@district.example.org",
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
        user = _person(make, district_id, first, last, "district.example.org", offset=5)
        user["roles"] = {
            "district_admin": {"title": "" if n else "Superintendent", "legacy_id": make.new("legacy", 5)[0]}
        }
        users.append(user)
    teachers_by_school: dict[str, list[Obj]] = {}
    students = _students(rng, make, district_id, schools, size)
    enrolled_at: dict[str, int] = {}
    for student in students:
        school_id = student["roles"]["student"]["school"]
        enrolled_at[school_id] = enrolled_at.get(school_id, 0) + 1
    for school in schools:
        enrolled = enrolled_at.get(school["id"], 0)
        teachers = [_teacher(rng, make, district_id, school) for _ in range(max(2, -(-enrolled // 20)))]
        teachers_by_school[school["id"]] = teachers
        users.extend(teachers)
    if len(schools) > 1:  # a teacher who teaches at two schools, as in Clever's demo data
        teacher = teachers_by_school[schools[0]["id"]][0]["roles"]["teacher"]
        teacher["schools"].append(schools[1]["id"])
    for n in range(staff_count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = _person(make, district_id, first, last, "district.example.org", offset=6)
        chosen = rng.sample([s["id"] for s in schools], k=min(len(schools), 1 + (n % 3 == 0)))
        user["roles"] = {
            "staff": {
                "staff_id": f"S{1000 + n}",
                "title": rng.choice(("Counselor", "Librarian", "Nurse", "Principal", "")),
                "department": rng.choice(("Student Services", "Administration", "")),
                "roles": [],
                "schools": chosen,
                "credentials": {"district_username": f"{_ascii(first)}.{_ascii(last)}{n}"},
                "legacy_id": make.new("legacy", 6)[0],
            }
        }
        users.append(user)
    users.extend(students)
    users.extend(_contacts(rng, make, district_id, students))
    sections = _sections(rng, make, district_id, schools, students, teachers_by_school, courses, terms)
    return {
        "districts": [district],
        "schools": schools,
        "users": users,
        "sections": sections,
        "terms": terms,
        "courses": list(courses.values()),
    }


def _schools(rng: random.Random, make: _Maker, district_id: str, size: int) -> list[Obj]:
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


def _terms(make: _Maker, district_id: str) -> list[Obj]:
    spans = (
        ("2024-2025 Full Year", "2024-08-26", "2025-06-13"),
        ("2024-2025 Semester 1", "2024-08-26", "2025-01-17"),
        ("2024-2025 Semester 2", "2025-01-21", "2025-06-13"),
    )
    return [
        {"id": make.new("terms", 2)[0], "district": district_id, "name": n, "start_date": a, "end_date": b}
        for n, a, b in spans
    ]


def _course(make: _Maker, district_id: str, label: str, code: str, grade: str) -> Obj:
    short = "K" if grade == "Kindergarten" else grade
    return {
        "id": make.new("courses", 3)[0],
        "district": district_id,
        "name": f"{label} {short}",
        "number": f"{code}-{short.zfill(2)}",
    }


def _person(make: _Maker, district_id: str, first: str, last: str, domain: str, offset: int) -> Obj:
    user_id, created = make.new("users", offset)
    return {
        "id": user_id,
        "district": district_id,
        "created": created,
        "last_modified": created,
        "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
        "name": {"first": first, "middle": "", "last": last},
    }


def _teacher(rng: random.Random, make: _Maker, district_id: str, school: Obj) -> Obj:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = _person(make, district_id, first, last, "teachers.example.org", offset=4)
    user["name"]["middle"] = rng.choice(("", "A", "J", "M"))
    number = make.new("teacher_numbers", 4)[0][-6:]
    user["roles"] = {
        "teacher": {
            "credentials": {"district_username": f"{_ascii(first)}.{_ascii(last)}"},
            "school": school["id"],
            "schools": [school["id"]],
            "sis_id": str(int(number, 16)),
            "state_id": "",
            "teacher_number": str(200000 + int(number, 16)),
            "title": rng.choice(("Teacher", "Grade Level Lead", "")),
            "legacy_id": make.new("legacy", 4)[0],
        }
    }
    return user


def _grade_number(grade: str) -> int:
    return 0 if grade == "Kindergarten" else int(grade)


def _students(rng: random.Random, make: _Maker, district_id: str, schools: list[Obj], size: int) -> list[Obj]:
    by_band: dict[str, list[Obj]] = {}
    for school in schools:
        by_band.setdefault(school["ext"]["band"], []).append(school)
    grades = [g for band in ("E", "M", "H") for g in BANDS[band]]
    band_of = {g: band for band, gs in BANDS.items() for g in gs}
    students: list[Obj] = []
    for n in range(size):
        grade = grades[n % len(grades)] if n < len(grades) else rng.choice(grades)
        number = _grade_number(grade)
        home = rng.choice(by_band[band_of[grade]])
        first, last = (
            (students[0]["name"]["first"], students[0]["name"]["last"])
            if n == 1
            else (
                rng.choice(FIRST),
                rng.choice(LAST),
            )
        )
        user = _person(make, district_id, first, last, "students.example.org", offset=7)
        user["name"]["middle"] = rng.choice(("", "", "A", "G", "S", "L"))
        user["email"] = user["email"].replace("@", f"{n}@")
        if rng.random() < (0.6 if number <= 2 else 0.2 if number <= 5 else 0.03):
            # Young students often have no email; Clever then sends "" or leaves the field out.
            if rng.random() < 0.5:
                del user["email"]
            else:
                user["email"] = ""
        schools_of = [home["id"]]
        if len(schools) > 1 and (rng.random() < 0.03 or n == 2):  # n == 2: every district has one
            schools_of.append(rng.choice([s["id"] for s in schools if s["id"] != home["id"]]))
        year = 2024 - 5 - number - (rng.random() < 0.3)
        role: Obj = {
            "credentials": {"district_username": f"{_ascii(first)}{_ascii(last)[:1]}{n}"},
            "dob": f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{year}",
            "enrollments": [],
            "gender": rng.choice(("M", "F", "M", "F", "X", "")),
            "grade": grade,
            "graduation_year": "" if rng.random() < 0.2 else str(2025 + 12 - number),
            "hispanic_ethnicity": rng.choice(("Y", "N", "N", "")),
            "location": {"address": "", "city": "", "state": "", "zip": f"{62701 + n % 50}"},
            "race": rng.choice(RACES),
            "school": home["id"],
            "schools": schools_of,
            "sis_id": str(100000000 + n),
            "state_id": str(rng.randint(100000000, 999999999)),
            "student_number": str(100000000 + n),
        }
        if user.get("email"):  # Clever's demo data repeats the email inside the student role
            role["email"] = user["email"]
        user["roles"] = {"student": role}
        students.append(user)
    return students


def _contacts(rng: random.Random, make: _Maker, district_id: str, students: list[Obj]) -> list[Obj]:
    contacts: list[Obj] = []
    for student in students:
        wanted = 1 + (rng.random() < 0.5)
        if contacts and rng.random() < 0.12:  # a sibling: the same parent already listed
            shared = rng.choice(contacts[-50:])
            shared["roles"]["contact"]["student_relationships"].append(
                {"relationship": "Parent", "student": student["id"], "type": "Parent/Guardian"}
            )
            wanted -= 1
        for n in range(wanted):
            first = rng.choice(FIRST)
            family = student["name"]["last"] if rng.random() < 0.8 else rng.choice(LAST)
            user_id, created = make.new("users", 8)
            email = (
                f"{_ascii(family)}.{_ascii(first)}{len(contacts)}@example.com" if rng.random() < 0.7 else ""
            )
            contacts.append(
                {
                    "id": user_id,
                    "district": district_id,
                    "created": created,
                    "last_modified": created,
                    "email": email,
                    # Clever keeps a contact's whole name in name.last.
                    "name": {"last": f"{first} {family}"},
                    "roles": {
                        "contact": {
                            "phone": "" if rng.random() < 0.3 else f"555-01{rng.randint(10, 99)}",
                            "phone_type": rng.choice(("Cell", "Home", "Work", "Other", "")),
                            "sis_id": "",
                            "student_relationships": [
                                {
                                    "relationship": "Parent"
                                    if n == 0
                                    else rng.choice(("Grandparent", "Aunt/Uncle", "Other")),
                                    "student": student["id"],
                                    "type": "Parent/Guardian"
                                    if n == 0
                                    else rng.choice(("Emergency", "Family", "")),
                                }
                            ],
                        }
                    },
                }
            )
    return contacts


def _sections(
    rng: random.Random,
    make: _Maker,
    district_id: str,
    schools: list[Obj],
    students: list[Obj],
    teachers_by_school: dict[str, list[Obj]],
    courses: dict[tuple[str, str], Obj],
    terms: list[Obj],
) -> list[Obj]:
    cohorts: dict[tuple[str, str], list[str]] = {}
    for student in students:
        role = student["roles"]["student"]
        cohorts.setdefault((role["school"], role["grade"]), []).append(student["id"])
    sections: list[Obj] = []
    turn: dict[str, int] = {}
    for school in schools:
        teachers = teachers_by_school[school["id"]]
        grades = [g for band in BANDS.values() for g in band]
        for grade in grades:
            members = cohorts.get((school["id"], grade), [])
            groups = max(1, -(-len(members) // 25)) if members else 0
            for g in range(groups):
                cohort = members[g::groups]
                electives = rng.sample(SUBJECTS[5:], k=rng.randint(1, 3))
                for period, (label, subject, _) in enumerate((*SUBJECTS[:5], *electives), start=1):
                    at = turn[school["id"]] = turn.get(school["id"], -1) + 1
                    teacher = teachers[at % len(teachers)]
                    co_teachers = [teacher["id"]]
                    if len(teachers) > 1 and rng.random() < 0.05:
                        co_teachers.append(teachers[(at + 1) % len(teachers)]["id"])
                    section_id, created = make.new("sections", 9)
                    term = terms[0] if period <= 5 else terms[1 + period % 2]
                    sections.append(
                        {
                            "id": section_id,
                            "district": district_id,
                            "school": school["id"],
                            "name": f"{courses[(label, grade)]['name']} - {teacher['name']['last']}",
                            "sis_id": str(len(sections) + 1),
                            "section_number": "" if rng.random() < 0.6 else str(period),
                            "period": str(period),
                            "grade": grade,
                            "subject": subject,
                            "course": courses[(label, grade)]["id"],
                            "term_id": term["id"],
                            "teacher": teacher["id"],
                            "teachers": co_teachers,
                            "students": sorted(cohort),
                            "created": created,
                            "last_modified": created,
                        }
                    )
    first_school = [s for s in sections if s["school"] == schools[0]["id"]]
    if len(first_school) > 1 and len({s["name"] for s in first_school}) == len(first_school):
        first_school[1]["name"] = first_school[0]["name"]  # section names are not unique in Clever
    return sections
