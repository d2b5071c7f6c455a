"""Issue 17, point 2: a departed student whose account is a READ_ONLY directory account (Keycloak
LDAP federation with import) is counted as a student, not disabled in silence, loses every Clever
group and the Clever link, and waits with the exact action the admin must take in the directory.
The real Keycloak, OpenLDAP and Redis."""

from __future__ import annotations

import dataclasses

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection
from redis import Redis

from connectors.keycloak_ldap import federate_ldap
from model.records import Event, School, User
from plugin.config.settings import Settings
from plugin.runs.standing import WAITING_KINDS, StandingStore
from plugin.sync.pipeline import Start, run_sync
from tests.conftest import LdapOu
from tests.factories import make_school, make_section, make_student, make_teacher
from tests.idp import register_idp
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration


def _jane_in_a_read_only_directory(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> tuple[str, School, User, User, list[User]]:
    """Jane Doe's entry in a directory Keycloak federates READ_ONLY, and a school where Clever has her,
    her teacher and 12 classmates: (her DN, the school, the teacher, Jane, the others)."""
    dn = f"uid=jdoe,{ldap_ou.people_dn}"
    assert ldap_conn.add(dn, ["inetOrgPerson"], {"cn": "Jane Doe", "sn": "Doe", "givenName": "Jane"})
    register_idp(keycloak_admin)
    federate_ldap(keycloak_admin, settings.ldap, mode="READ_ONLY")
    school = make_school("Lincoln Elementary")
    teacher = make_teacher("Ann", "Lee", school=school.clever_id)
    jane = make_student("Jane", "Doe", school=school.clever_id)
    others = [make_student("Kid", f"Number{i}", school=school.clever_id) for i in range(12)]
    return dn, school, teacher, jane, others


def students_here(ldap_ou: LdapOu) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``KCC_MATCH_SCOPES``: the directory's people are where the district keeps its students."""
    return (("student", (ldap_ou.people_dn,)),)


def test_a_departed_student_with_a_read_only_directory_account_waits_and_is_counted_a_student(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    dn, school, teacher, jane, others = _jane_in_a_read_only_directory(
        settings, keycloak_admin, ldap_conn, ldap_ou
    )
    settings = settings.with_options(match_scopes=students_here(ldap_ou))  # Jane's entry is a student's
    pupils = [jane, *others]
    section = make_section(
        "Math", school=school.clever_id, teachers=[teacher.clever_id], students=[p.clever_id for p in pupils]
    )
    first = run_sync(settings, source=MemorySource(MemoryRoster([school], [teacher, *pupils], [section])))
    assert first.status == "ok", first.summary()
    assert first.kinds["students"]["linked_by_name"] == 1, first.summary()
    account = keycloak_admin.get_users({"username": "jdoe", "exact": True})[0]
    assert [link["userId"] for link in keycloak_admin.get_user_social_logins(account["id"])] == [
        jane.clever_id
    ]
    assert keycloak_admin.get_user_groups(account["id"], brief_representation=True)

    gone = dataclasses.replace(section, students=tuple(p.clever_id for p in others))
    source = MemorySource(MemoryRoster([school], [teacher, *others], [gone]))
    second = run_sync(settings, source=source)
    # 1 of 13 students departs: under the brake's 10%; never "1 of 1 staff"
    assert second.brake["held"] is False, second.summary()
    assert second.status == "ok", second.summary()
    assert second.kinds["staff"]["disabled"] == 0, second.summary()
    assert second.kinds["students"]["disabled"] == 1, second.summary()
    assert keycloak_admin.get_user(account["id"])["enabled"] is False  # enabled=false alone is taken
    items = [item for item in second.waiting if item["kind"] == "directory-departed"]
    assert [item["clever_id"] for item in items] == [jane.clever_id], second.waiting
    assert items[0]["ldap_dn"] == dn and items[0]["keycloak_id"] == account["id"]
    assert f"disable or remove {dn} in the directory" in items[0]["action"]
    standing = StandingStore(Redis.from_url(settings.redis_url)).advance(second)  # the page's list
    listed = standing.waiting_by_kind()["directory-departed"]
    assert [item["clever_id"] for item in listed] == [jane.clever_id]
    assert WAITING_KINDS["directory-departed"]
    assert (
        not [  # out of every Clever group, in Keycloak and in LDAP
            g
            for g in keycloak_admin.get_user_groups(account["id"], brief_representation=True)
            if g["path"].startswith("/Clever")
        ]
    )
    ldap_conn.search(ldap_ou.groups_dn, f"(member={dn})")
    assert ldap_conn.entries == []

    # the next run has nothing more to write
    third = run_sync(settings, source=source)
    assert third.status == "ok" and third.writes == {"keycloak": 0, "ldap": 0}, third.summary()

    # back in Clever: enabled again (``enabled`` is the realm's to write) and back in the class
    back = run_sync(settings, source=MemorySource(MemoryRoster([school], [teacher, *pupils], [section])))
    assert back.status == "ok", back.summary()
    assert keycloak_admin.get_user(account["id"])["enabled"] is True, back.summary()
    assert "/Clever/Lincoln Elementary/Classes/Math" in {
        g["path"] for g in keycloak_admin.get_user_groups(account["id"], brief_representation=True)
    }


def test_an_incremental_users_deleted_event_disables_a_read_only_account_as_a_student(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    dn, school, teacher, jane, others = _jane_in_a_read_only_directory(
        settings, keycloak_admin, ldap_conn, ldap_ou
    )
    settings = settings.with_options(match_scopes=students_here(ldap_ou))  # Jane's entry is a student's
    first = run_sync(settings, source=MemorySource(MemoryRoster([school], [teacher, jane, *others], [])))
    assert first.kinds["students"]["linked_by_name"] == 1, first.summary()
    account = keycloak_admin.get_users({"username": "jdoe", "exact": True})[0]

    source = MemorySource(MemoryRoster([school], [teacher, *others], []))
    source.events_.append(Event("e" + "0" * 23, "users.deleted", first.started, jane))
    second = run_sync(settings, source=source, start=Start(first.preview["event_cursor"]))
    assert second.mode == "incremental", second.summary()
    assert second.status == "ok" and not second.brake["held"], second.summary()
    assert second.kinds["students"]["disabled"] == 1 and second.kinds["staff"]["disabled"] == 0
    assert keycloak_admin.get_user(account["id"])["enabled"] is False
    assert [w["ldap_dn"] for w in second.waiting if w["kind"] == "directory-departed"] == [dn]
