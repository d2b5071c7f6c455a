"""Issue 14, point 6: class names as Keycloak 26.5 and OpenLDAP actually take them. ``/`` stays in
the group name (Keycloak finds the group by path, LDAP takes it in a ``cn``); a name too long for
either is cut to fit both, with one warning, and kept whole in the group's ``clever_name``
attribute. A roster file built here, a real sandbox, the real Keycloak, OpenLDAP and Redis.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection

from mappers.classes import whole_name
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, run, served

pytestmark = pytest.mark.integration
REDIS_DB = 6
SCHOOL = "K-8 / Annex"
LONG = "Advanced Placement Environmental Science and Sustainability, Honors " * 5  # 345 characters
WIDE = "環境科学" * 25  # 100 characters, 300 bytes in UTF-8


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def _class_groups(admin: KeycloakAdmin, realm: str) -> dict[str, dict[str, object]]:
    """Section id -> {"name", "clever_name", "members"} of every class group, found by path."""
    url = f"admin/realms/{realm}/group-by-path{quote(f'/Clever/{SCHOOL}/Classes', safe='/')}"
    response = admin.connection.raw_get(url)
    assert response.status_code == 200, response.text
    found: dict[str, dict[str, object]] = {}
    for child in admin.get_group_children(response.json()["id"], {"max": 100, "briefRepresentation": False}):
        attributes = child["attributes"]
        members = admin.get_group_members(child["id"], {"briefRepresentation": False})
        found[attributes["clever_id"][0]] = {
            "name": child["name"],
            "clever_name": whole_name(attributes["clever_name"]),
            "members": {m["attributes"]["clever_id"][0] for m in members},
        }
    return found


def test_class_names_keep_slashes_and_long_ones_are_cut_to_what_both_directories_take(
    settings: Settings, state: SyncState, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, tmp_path: Path
) -> None:
    roster = HardRoster(school_name=SCHOOL)
    teacher = roster.person("teacher", "Ann", "Lee")
    student = roster.student("Bo", "Ng")
    slash = roster.section("Math 7/8", teacher, [student])
    long_one = roster.section(LONG, teacher, [student])
    wide = roster.section(WIDE, teacher, [student])
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        groups = _class_groups(keycloak_admin, settings.keycloak.realm)
        assert groups[slash] == {"name": "Math 7/8", "clever_name": "Math 7/8", "members": {teacher, student}}
        for section, whole in ((long_one, LONG), (wide, WIDE)):
            assert groups[section]["clever_name"] == whole.strip()  # Clever's client trims edges
            name = whole.strip()
            shown = str(groups[section]["name"])
            assert name.startswith(shown) and len(shown) < len(name)
            assert groups[section]["members"] == {teacher, student}
        cut = [w for w in report.warnings if "clever_name" in w]
        assert len(cut) == 2 and long_one in cut[0] + cut[1] and wide in cut[0] + cut[1]

        groups_dn = settings.ldap.groups_dn
        ldap_conn.search(groups_dn, "(objectClass=groupOfNames)", SUBTREE, attributes=["cn"])
        ldap_names = {entry.cn.value for entry in ldap_conn.entries}
        assert ldap_names == {SCHOOL, *(str(g["name"]) for g in groups.values())}

        again = run(clever, state)
        assert again.status == "ok" and again.writes == {"keycloak": 0, "ldap": 0}, again.summary()
