"""The generated people and their sections: students, teachers, contacts."""

from __future__ import annotations

import random

from sandbox.generator_pools import BANDS, FIRST, LAST, RACES, SUBJECTS, Maker, Obj, ascii_fold, person


def make_teacher(rng: random.Random, make: Maker, district_id: str, school: Obj) -> Obj:
    """A teacher of one school."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = person(make, district_id, first, last, "teachers.example.org", offset=4)
    user["name"]["middle"] = rng.choice(("", "A", "J", "M"))
    number = make.new("teacher_numbers", 4)[0][-6:]
    user["roles"] = {
        "teacher": {
            "credentials": {"district_username": f"{ascii_fold(first)}.{ascii_fold(last)}"},
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


def grade_number(grade: str) -> int:
    """Kindergarten is 0."""
    return 0 if grade == "Kindergarten" else int(grade)


def students_of(
    rng: random.Random, make: Maker, district_id: str, schools: list[Obj], size: int
) -> list[Obj]:
    """``size`` students spread over the schools of their grade band."""
    by_band: dict[str, list[Obj]] = {}
    for school in schools:
        by_band.setdefault(school["ext"]["band"], []).append(school)
    grades = [g for band in ("E", "M", "H") for g in BANDS[band]]
    band_of = {g: band for band, gs in BANDS.items() for g in gs}
    students: list[Obj] = []
    for n in range(size):
        grade = grades[n % len(grades)] if n < len(grades) else rng.choice(grades)
        number = grade_number(grade)
        home = rng.choice(by_band[band_of[grade]])
        first, last = (
            (students[0]["name"]["first"], students[0]["name"]["last"])
            if n == 1
            else (
                rng.choice(FIRST),
                rng.choice(LAST),
            )
        )
        user = person(make, district_id, first, last, "students.example.org", offset=7)
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
            "credentials": {"district_username": f"{ascii_fold(first)}{ascii_fold(last)[:1]}{n}"},
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


def contacts_of(rng: random.Random, make: Maker, district_id: str, students: list[Obj]) -> list[Obj]:
    """One or two contacts per student; some siblings share a parent."""
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
                f"{ascii_fold(family)}.{ascii_fold(first)}{len(contacts)}@example.com"
                if rng.random() < 0.7
                else ""
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


def sections_of(
    rng: random.Random,
    make: Maker,
    district_id: str,
    schools: list[Obj],
    students: list[Obj],
    teachers_by_school: dict[str, list[Obj]],
    courses: dict[tuple[str, str], Obj],
    terms: list[Obj],
) -> list[Obj]:
    """Cohorts of about 25 per school and grade, each in six to eight sections."""
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
