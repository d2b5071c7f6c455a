"""What /v3.0 and /v3.1 serve differently: v3.1 adds fields to a user (``shared/clever-spec/v3.1.yml``).

The store holds each object as the roster gives it, v3.1 fields included (a roster file may carry
them: a student's ``preferred_name`` and the sensitive ``iep_status``, ``frl_status``,
``disability``, ``section_504_status``, ``gifted_status``, ``home_language``,
``home_language_code``; a user's ``lms_status``). /v3.1 serves the object as held; /v3.0 serves
it without them, as Clever's v3.0 does. Only objects that hold such a field are decoded again
(a quick substring test first), so a generated district costs nothing extra.
"""

from __future__ import annotations

import json
from typing import Any

# The Student properties v3.1 adds to v3.0's, and the User ones (tests/unit/sandbox/ checks
# these against Clever's spec files).
V31_STUDENT_FIELDS = (
    "disability",
    "frl_status",
    "gifted_status",
    "home_language",
    "home_language_code",
    "iep_status",
    "preferred_name",
    "section_504_status",
)
V31_USER_FIELDS = ("lms_status",)
_MARKERS = tuple(f'"{name}"' for name in (*V31_STUDENT_FIELDS, *V31_USER_FIELDS))


def as_v30(user: dict[str, Any]) -> dict[str, Any]:
    """A user object without its v3.1 fields (a copy)."""
    found = {k: v for k, v in user.items() if k not in V31_USER_FIELDS}
    roles = found.get("roles")
    if isinstance(roles, dict) and isinstance(roles.get("student"), dict):
        student = {k: v for k, v in roles["student"].items() if k not in V31_STUDENT_FIELDS}
        found["roles"] = {**roles, "student": student}
    return found


def user_json(raw: str, version: str) -> str:
    """A stored user's JSON as ``version`` serves it."""
    if version != "v3.0" or not any(marker in raw for marker in _MARKERS):
        return raw
    return json.dumps(as_v30(json.loads(raw)), ensure_ascii=False, separators=(",", ":"))


def event_json(raw: str, version: str) -> str:
    """A stored ``users.*`` event's JSON as ``version`` serves it (its object, and its previous)."""
    if version != "v3.0" or not any(marker in raw for marker in _MARKERS):
        return raw
    event = json.loads(raw)
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("object"), dict):
        data["object"] = as_v30(data["object"])
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
