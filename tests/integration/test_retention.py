"""Issue 27, retention: N days after a person left Clever, the account the sync created for them is
deleted, an account it only linked is unlinked (never deleted), a mass deletion is held at the
brake, and each one is audited. The departure stamps are back-dated through the admin API (the
clock the rule reads). The real Keycloak, Redis and OpenLDAP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from keycloak import KeycloakAdmin
from redis import Redis

from model.records import Role, User
from model.state import CREATED_MARK
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso import links
from plugin.sync.run_options import RunOptions
from tests.factories import make_student
from tests.idp import register_idp
from tests.sync_roster import MemorySource, make_district_roster

pytestmark = pytest.mark.integration
DAYS = 30
FULL = RunOptions(full=True)


def _account(admin: KeycloakAdmin, clever_id: str) -> dict[str, object] | None:
    found = admin.get_users({"idpAlias": "clever", "idpUserId": clever_id})
    return admin.get_user(found[0]["id"]) if found else None


def _left_days_ago(admin: KeycloakAdmin, user_id: str, days: int, **more: list[str]) -> None:
    """Back-date the account's departure stamp (``clever_removed_at``) by ``days``."""
    user = admin.get_user(user_id)
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    user["attributes"] = {**user["attributes"], "clever_removed_at": [when], **more}
    admin.update_user(user_id, user)


def test_retention_deletes_created_departed_accounts_and_only_unlinks_linked_ones(
    settings: Settings, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    settings = settings.with_options(retention_days=DAYS)
    register_idp(keycloak_admin)
    jane_id = keycloak_admin.create_user(
        {"username": "jdoe", "enabled": True, "firstName": "Jane", "lastName": "Doe"}
    )
    keycloak_admin.create_realm_role({"name": "clever-student"})  # a known student's account: matched
    keycloak_admin.assign_realm_roles(jane_id, [keycloak_admin.get_realm_role("clever-student")])
    roster = make_district_roster(40)
    school = next(u for u in roster.users_ if u.has(Role.STUDENT)).schools[0]
    jane = make_student("Jane", "Doe", school=school)
    roster.users_.append(jane)
    source = MemorySource(roster)
    state = SyncState.from_url(redis_url)
    first = jobs.run_locked(settings, state, "d1", "full1", FULL, source=source)
    assert first.status == "ok" and first.kinds["students"]["linked_by_name"] == 1, first.summary()
    students = [u for u in roster.users_ if u.has(Role.STUDENT) and u is not jane]
    made, recent, unmarked, stays = students[:4]
    ids = {u.clever_id: _account(keycloak_admin, u.clever_id)["id"] for u in (made, recent, unmarked, stays)}  # type: ignore[index]
    made_username = keycloak_admin.get_user(ids[made.clever_id])["username"]
    assert CREATED_MARK in keycloak_admin.get_user(ids[made.clever_id])["attributes"]  # made by the sync
    assert CREATED_MARK not in keycloak_admin.get_user(jane_id)["attributes"]  # only linked

    for gone in (made, recent, unmarked, jane):  # 4 of 41 students leave: under the brake
        roster.users_.remove(gone)
    left = jobs.run_locked(settings, state, "d1", "left", FULL, source=source)
    assert left.status == "ok" and left.kinds["students"]["disabled"] == 4, left.summary()
    assert left.retention == {"days": DAYS, "deleted": {}, "unlinked": {}}  # nobody is 30 days gone yet
    _left_days_ago(keycloak_admin, ids[made.clever_id], DAYS + 1)
    _left_days_ago(keycloak_admin, ids[recent.clever_id], DAYS - 1)
    _left_days_ago(keycloak_admin, ids[unmarked.clever_id], DAYS + 1, **{CREATED_MARK: []})  # no mark
    # A mark written after Jane's account was made (a later run's, merged onto it) is not trusted.
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="seconds")
    _left_days_ago(keycloak_admin, jane_id, DAYS + 5, **{CREATED_MARK: [later]})

    kept = jobs.run_locked(settings, state, "d1", "kept", FULL, source=source)

    assert kept.status == "ok", kept.summary()
    assert _account(keycloak_admin, made.clever_id) is None  # deleted
    assert keycloak_admin.get_user_id(made_username) is None
    jane_now = keycloak_admin.get_user(jane_id)  # never deleted: unlinked, Clever data gone
    assert jane_now["enabled"] is False and keycloak_admin.get_user_social_logins(jane_id) == []
    assert not [name for name in jane_now.get("attributes", {}) if name.startswith("clever_")], jane_now
    assert _account(keycloak_admin, recent.clever_id)["enabled"] is False  # type: ignore[index]  # 29 days: kept
    assert keycloak_admin.get_user(ids[unmarked.clever_id])["enabled"] is False  # no mark: never deleted
    assert keycloak_admin.get_user_social_logins(ids[unmarked.clever_id]) == []  # only unlinked
    assert _account(keycloak_admin, stays.clever_id)["enabled"] is True  # type: ignore[index]  # still in Clever
    assert kept.retention == {"days": DAYS, "deleted": {"students": 1}, "unlinked": {"students": 2}}
    audit = links.audit_log(Redis.from_url(redis_url), settings.keycloak.realm)
    assert {(e["action"], e["clever_id"], e["keycloak_id"]) for e in audit} == {
        ("retention-delete", made.clever_id, ids[made.clever_id]),
        ("retention-unlink", jane.clever_id, jane_id),
        ("retention-unlink", unmarked.clever_id, ids[unmarked.clever_id]),
    }
    assert all(e["who"] == f"retention ({DAYS} days)" for e in audit)

    # The next runs find nobody: nobody waits as "unlinked", nothing more is written.
    again = jobs.run_locked(settings, state, "d1", "again", FULL, source=source)
    assert again.status == "ok" and again.retention["deleted"] == {} and again.retention["unlinked"] == {}
    assert not [w for w in again.waiting if w["kind"] == "unlinked"], again.waiting
    assert again.writes["keycloak"] == 0, again.summary()


def test_a_mass_deletion_is_held_at_the_brake_and_applied_when_approved(
    settings: Settings, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    settings = settings.with_options(retention_days=DAYS)
    register_idp(keycloak_admin)
    roster = make_district_roster(40)
    source = MemorySource(roster)
    state = SyncState.from_url(redis_url)
    assert jobs.run_locked(settings, state, "d1", "full1", FULL, source=source).status == "ok"
    leavers: list[User] = [u for u in roster.users_ if u.has(Role.STUDENT)][:8]
    for gone in leavers:  # 8 of 40: a mass departure, approved
        roster.users_.remove(gone)
    approved = RunOptions(full=True, release_brake=True, trigger="approve")
    assert jobs.run_locked(settings, state, "d1", "left", approved, source=source).status == "ok"
    accounts = {u.clever_id: _account(keycloak_admin, u.clever_id)["id"] for u in leavers}  # type: ignore[index]
    for user_id in accounts.values():
        _left_days_ago(keycloak_admin, user_id, DAYS + 1)

    held = jobs.run_locked(settings, state, "d1", "held", FULL, source=source)

    assert held.status == "held", held.summary()
    assert held.brake["reasons"] == ["retention would delete or unlink 8 of 32 synced students (over 10%)"]
    assert all(_account(keycloak_admin, cid) is not None for cid in accounts)  # nothing deleted
    changes = held.would_change
    assert changes.totals["deleted"] == 8 and "delete 8 departed accounts (retention)" in changes.sentence()
    assert {row["clever_id"] for row in changes.retention} == set(accounts)

    done = jobs.run_locked(settings, state, "d1", "approved", approved, source=source)
    assert done.status == "ok" and done.retention["deleted"] == {"students": 8}, done.summary()
    assert all(_account(keycloak_admin, cid) is None for cid in accounts)
