"""Roster files of hard real-world cases, built in a test, served by a real sandbox (issue 14).

``HardRoster`` collects bare Clever objects (what the Data API returns inside ``data``) for one
district with one school; ``served(settings, roster, tmp_path)`` writes it as a roster file, serves
it on a socket and yields the test's Settings pointed at it. ``run(settings, state)`` is one sync
through the job boundary (the report stored as for a real run); ``accounts(admin)`` is what
Keycloak holds afterwards.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from keycloak import KeycloakAdmin

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve

Obj = dict[str, Any]
DISTRICT = "d1" + "0" * 22
SCHOOL = "5c" + "0" * 22
_ids = itertools.count(1)


def new_id(prefix: str = "a0") -> str:
    """A fresh 24-hex id (ascending, as Clever's are)."""
    return f"{prefix}{next(_ids):022x}"


@dataclasses.dataclass
class HardRoster:
    """One district, one school; people and sections added by the test."""

    school_name: str = "Hard Cases High"
    users: list[Obj] = dataclasses.field(default_factory=list)
    sections: list[Obj] = dataclasses.field(default_factory=list)

    def person(self, role: str, first: str, last: str, **fields: Any) -> str:
        """Add a student, teacher or staff member; their Clever id. ``role_data`` adds to the role."""
        clever_id = fields.pop("clever_id", "") or new_id()
        role_data: Obj = {"school": SCHOOL, "schools": [SCHOOL], **fields.pop("role_data", {})}
        if role == "staff":
            role_data.pop("school")
        self.users.append(
            {
                "id": clever_id,
                "district": DISTRICT,
                "name": {"first": first, "last": last},
                "roles": {role: role_data},
                **fields,
            }
        )
        return clever_id

    def student(self, first: str, last: str, **fields: Any) -> str:
        return self.person("student", first, last, **fields)

    def contact(self, whole_name: str, students: list[str], **fields: Any) -> str:
        """A contact as Clever sends most: the whole name in ``name.last``."""
        clever_id = new_id("c0")
        rels = [{"student": s, "relationship": "Parent", "type": "Parent/Guardian"} for s in students]
        self.users.append(
            {
                "id": clever_id,
                "district": DISTRICT,
                "name": {"first": "", "last": whole_name},
                "roles": {"contact": {"student_relationships": rels}},
                **fields,
            }
        )
        return clever_id

    def section(self, name: str, teacher: str, students: list[str]) -> str:
        clever_id = new_id("5e")
        self.sections.append(
            {
                "id": clever_id,
                "district": DISTRICT,
                "school": SCHOOL,
                "name": name,
                "teacher": teacher,
                "teachers": [teacher],
                "students": students,
            }
        )
        return clever_id

    def as_file(self) -> Obj:
        return {
            "districts": [{"id": DISTRICT, "name": "Hard Cases District"}],
            "schools": [{"id": SCHOOL, "district": DISTRICT, "name": self.school_name}],
            "users": self.users,
            "sections": self.sections,
        }


def file_bytes(data: Obj) -> bytes:
    """``data`` as a roster file's bytes. A string may hold bytes that are not UTF-8 as Python's
    ``surrogateescape`` spells them (``"\udcff"`` is the byte 0xFF in the file) and other lone
    surrogates (``"\ud800"``: escaped in the file, as a JSON encoder writes one)."""
    text = json.dumps(data, ensure_ascii=False)
    text = re.sub("[\ud800-\udc7f\udd00-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.encode("utf-8", "surrogateescape")


@contextmanager
def served(settings: Settings, roster: HardRoster, tmp_path: Path, **config: Any) -> Iterator[Settings]:
    """``roster`` as a file behind a real sandbox (``config``: more ``SandboxConfig`` fields);
    ``settings`` pointed at it."""
    path = tmp_path / "roster.json"
    path.write_bytes(file_bytes(roster.as_file()))
    app = create_app(SandboxConfig(roster=path, **config))
    with serve(app) as url:
        clever = dataclasses.replace(
            settings.clever,
            oauth_url=url,
            api_url=url,
            client_id="sandbox-client",
            client_secret="sandbox-secret",
            district_id=DISTRICT,
        )
        yield dataclasses.replace(settings, clever=clever)


def run(
    settings: Settings, state: SyncState, *, full: bool = True, school_ids: tuple[str, ...] = (), **flags: Any
) -> SyncReport:
    """One run through the job boundary, as the CLI and the page make it (``flags``: ``RunOptions``)."""
    return jobs.run_locked(
        settings,
        state,
        DISTRICT,
        new_id("99"),
        RunOptions(full=full, **flags),
        source=CleverClient(settings.clever),
        school_ids=school_ids,
    )


def accounts(admin: KeycloakAdmin) -> dict[str, Obj]:
    """Clever id -> full representation of every account carrying one."""
    found: dict[str, Obj] = {}
    for user in admin.get_users({"briefRepresentation": False, "max": 5000}):
        clever_id = ((user.get("attributes") or {}).get("clever_id") or [""])[0]
        if clever_id:
            found[clever_id] = user
    return found


def members(admin: KeycloakAdmin, path: str) -> set[str]:
    """Clever ids of the members of the group at ``path``."""
    group = admin.get_group_by_path(path)
    found = admin.get_group_members(group["id"], {"max": 5000, "briefRepresentation": False})
    return {m["attributes"]["clever_id"][0] for m in found}


def waiting(report: SyncReport, kind: str = "") -> dict[str, Obj]:
    """Clever id -> waiting-list entry (of ``kind`` when given)."""
    return {w["clever_id"]: w for w in report.waiting if not kind or w["kind"] == kind}
