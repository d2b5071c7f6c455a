"""Random changes to a sandbox district, made the way Clever makes them: through the sandbox's
mutations, so each one is also an event in its Events feed (``sandbox.events``).

``RosterChanges(sandbox, seed).step(count)`` makes ``count`` changes drawn from: a new student (and
their classes), a person renamed, a student moved between classes, a class renamed (sometimes to a
sibling's name: a collision), a new class, a role gained or lost, a student changing school, a
contact added, a contact's students changed, a contact removed, a departure, a school renamed.
Each returns a line saying what it did (the test prints them when the states differ).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sandbox.state import SandboxState

Obj = dict[str, Any]
FIRST = ("Ada", "Bea", "Cal", "Dov", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu")
LAST = ("Moss", "Nash", "Orr", "Pike", "Quin", "Roe", "Shaw", "Tate", "Umar", "Vance")


class RosterChanges:
    """Draws and makes random changes in ``sandbox`` (module doc); deterministic from ``seed``."""

    def __init__(self, sandbox: SandboxState, seed: int) -> None:
        self.sandbox = sandbox
        self.rng = random.Random(seed)
        self.made = 0
        self.changes: list[Callable[[], str]] = [
            self.new_student,
            self.rename_person,
            self.move_student,
            self.rename_class,
            self.new_class,
            self.role_change,
            self.change_school,
            self.new_contact,
            self.contact_students,
            self.remove_contact,
            self.departure,
            self.rename_school,
        ]

    def step(self, count: int) -> list[str]:
        """Make ``count`` changes (one that finds nothing to change makes another)."""
        done: list[str] = []
        while len(done) < count:
            if said := self.rng.choice(self.changes)():
                done.append(said)
        return done

    # -- what there is ------------------------------------------------------------------------------

    def _all(self, kind: str) -> list[Obj]:
        store = self.sandbox.store
        return [o for i in store.ids("all", kind, self.sandbox.district_id) if (o := store.get(kind, i))]

    def _people(self, role: str) -> list[Obj]:
        return self.sandbox.people(role)

    def _name(self) -> dict[str, str]:
        self.made += 1
        return {"first": self.rng.choice(FIRST), "middle": "", "last": f"{self.rng.choice(LAST)}{self.made}"}

    def _sections_of(self, school: str) -> list[Obj]:
        return [s for s in self._all("sections") if s["school"] == school]

    # -- the changes --------------------------------------------------------------------------------

    def new_student(self) -> str:
        school = self.rng.choice(self._all("schools"))
        name = self._name()
        student = self.sandbox.create(
            "users",
            {
                "name": name,
                "email": f"{name['last'].lower()}@students.example.org",
                "roles": {"student": {"school": school["id"], "schools": [school["id"]], "grade": "5"}},
            },
        )
        classes = self._sections_of(school["id"])
        for section in self.rng.sample(classes, min(len(classes), 2)):
            joined = [*section["students"], student["id"]]
            self.sandbox.update("sections", section["id"], {"students": joined})
        return f"new student {student['id']} at {school['id']}"

    def rename_person(self) -> str:
        person = self.rng.choice(self._people(self.rng.choice(("student", "teacher"))))
        self.sandbox.update("users", person["id"], {"name": {"first": self._name()["first"] + "x"}})
        return f"renamed {person['id']}"

    def move_student(self) -> str:
        student = self.rng.choice(self._people("student"))
        mine = list(self.sandbox.store.ids("user_sections", student["id"]))
        school = student["roles"]["student"]["school"]
        others = [s for s in self._sections_of(school) if s["id"] not in mine]
        if not mine or not others:
            return ""
        target = self.rng.choice(others)
        self.sandbox.move_student(student["id"], mine[0], target["id"])
        return f"moved {student['id']} from {mine[0]} to {target['id']}"

    def rename_class(self) -> str:
        section = self.rng.choice(self._all("sections"))
        siblings = [s for s in self._sections_of(section["school"]) if s["id"] != section["id"]]
        if siblings and self.rng.random() < 0.5:
            name = self.rng.choice(siblings).get("name") or "Homeroom"  # a collision in its school
        else:
            name = f"Class {self._name()['last']}"
        self.sandbox.update("sections", section["id"], {"name": name})
        return f"renamed class {section['id']} to {name!r}"

    def new_class(self) -> str:
        school = self.rng.choice(self._all("schools"))
        teachers = [t for t in self._people("teacher") if school["id"] in _schools(t)]
        students = [s for s in self._people("student") if school["id"] in _schools(s)]
        if not teachers:
            return ""
        section = self.sandbox.create(
            "sections",
            {
                "name": f"Club {self._name()['last']}",
                "school": school["id"],
                "teacher": teachers[0]["id"],
                "teachers": [teachers[0]["id"]],
                "students": sorted(s["id"] for s in self.rng.sample(students, min(len(students), 3))),
            },
        )
        return f"new class {section['id']} at {school['id']}"

    def role_change(self) -> str:
        """A staff member who also teaches (gains the teacher role), or stops teaching."""
        staff = self._people("staff")
        if not staff:
            return ""
        person = self.rng.choice(staff)
        roles = person["roles"]
        if roles.get("teacher") and not self.sandbox.store.ids("user_sections", person["id"]):
            self.sandbox.update("users", person["id"], {"roles": {"teacher": None}})
            return f"{person['id']} stops teaching"
        school = (roles["staff"].get("schools") or [self._all("schools")[0]["id"]])[0]
        teacher = {"school": school, "schools": [school]}
        self.sandbox.update("users", person["id"], {"roles": {"teacher": teacher}})
        return f"{person['id']} teaches at {school} too"

    def change_school(self) -> str:
        student = self.rng.choice(self._people("student"))
        schools = [s["id"] for s in self._all("schools") if s["id"] not in _schools(student)]
        if not schools:
            return ""
        school = self.rng.choice(schools)
        role = {"school": school, "schools": [school]}
        self.sandbox.update("users", student["id"], {"roles": {"student": role}})
        return f"{student['id']} changed school to {school}"

    def new_contact(self) -> str:
        students = self.rng.sample(self._people("student"), 2)
        name = self._name()
        contact = self.sandbox.create(
            "users",
            {
                "name": {"last": f"{name['first']} {name['last']}"},
                "email": f"{name['last'].lower()}@parents.example.org",
                "roles": {
                    "contact": {
                        "student_relationships": [
                            {"relationship": "Parent", "student": s["id"], "type": "Parent/Guardian"}
                            for s in students[: self.rng.randint(1, 2)]
                        ]
                    }
                },
            },
        )
        return f"new contact {contact['id']}"

    def contact_students(self) -> str:
        contacts = self._people("contact")
        if not contacts:
            return ""
        contact = self.rng.choice(contacts)
        student = self.rng.choice(self._people("student"))
        kept = contact["roles"]["contact"].get("student_relationships") or []
        if self.rng.random() < 0.5 and len(kept) > 1:
            relationships = kept[1:]
        else:
            added = {"relationship": "Aunt/Uncle", "student": student["id"], "type": "Family"}
            relationships = [*kept, added]
        role = {"student_relationships": relationships}
        self.sandbox.update("users", contact["id"], {"roles": {"contact": role}})
        return f"contact {contact['id']} now of {len(relationships)} students"

    def remove_contact(self) -> str:
        contacts = self._people("contact")
        if not contacts:
            return ""
        contact = self.rng.choice(contacts)
        self.sandbox.delete("users", contact["id"])
        return f"contact {contact['id']} removed"

    def departure(self) -> str:
        role = self.rng.choice(("student", "student", "teacher"))
        people = self._people(role)
        if len(people) < 4:
            return ""
        person = self.rng.choice(people)
        self.sandbox.delete("users", person["id"])
        return f"{role} {person['id']} left"

    def rename_school(self) -> str:
        school = self.rng.choice(self._all("schools"))
        name = f"{school['name'].split(' (')[0]} ({self.made})"
        self.sandbox.update("schools", school["id"], {"name": name})
        self.made += 1
        return f"school {school['id']} renamed"


def _schools(user: Obj) -> set[str]:
    found: set[str] = set()
    for data in (user.get("roles") or {}).values():
        if isinstance(data, dict):
            found.update(s for s in [data.get("school"), *(data.get("schools") or [])] if s)
    return found
