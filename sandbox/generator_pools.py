"""Name pools, school bands, subjects and the id maker the generator draws from."""

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
def ascii_fold(text: str) -> str:
    """Lowercase ASCII letters and digits only (for usernames and emails)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


class Maker:
    """Ids and timestamps per kind: each kind its own machine bytes, counters ascending."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._machines: dict[str, int] = {}
        self._counters: dict[str, int] = {}

    def new(self, kind: str, offset: int) -> tuple[str, str]:
        """The next (id, created timestamp) of a kind."""
        machine = self._machines.setdefault(kind, self._rng.getrandbits(40))
        counter = self._counters[kind] = self._counters.get(kind, 0) + 1
        stamp = BASE_TIME + offset
        return object_id(stamp, machine, counter), iso(stamp + counter / 1000)


def person(make: Maker, district_id: str, first: str, last: str, domain: str, offset: int) -> Obj:
    """A user without roles."""
    user_id, created = make.new("users", offset)
    return {
        "id": user_id,
        "district": district_id,
        "created": created,
        "last_modified": created,
        "email": f"{ascii_fold(first)}.{ascii_fold(last)}@{domain}",
        "name": {"first": first, "middle": "", "last": last},
    }
