"""An ambiguous match resolved on the admin page is applied by the next sync (real Keycloak, LDAP, Redis).

``plugin.sync.resolutions`` keeps the admin's choice (Clever id → Keycloak id or "create"); the sync reads
it before mapping, applies it, and forgets it once applied.
"""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin
from redis import Redis

from plugin.config.settings import Settings
from plugin.sync import resolutions
from plugin.sync.pipeline import run_sync
from plugin.sync.run_options import RunOptions
from tests.factories import make_school, make_student
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration


def twins(admin: KeycloakAdmin) -> list[str]:
    return [
        admin.create_user({"username": f"twin{i}", "enabled": True, "firstName": "Jess", "lastName": "Datos"})
        for i in (1, 2)
    ]


def test_the_ambiguous_match_is_reported_and_the_choice_is_kept(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    school = make_school("Lincoln School")
    student = make_student("Jess", "Datos", school=school.clever_id)
    ids = twins(keycloak_admin)
    report = run_sync(settings, source=MemorySource(MemoryRoster([school], [student], [])))
    assert report.ambiguous == [
        {
            "clever_ids": [student.clever_id],
            "keycloak_ids": sorted(ids),
            "reason": report.ambiguous[0]["reason"],
        }
    ]
    redis = Redis.from_url(settings.redis_url)
    resolutions.resolve(redis, settings.keycloak.realm, student.clever_id, ids[1])
    assert resolutions.load(redis, settings.keycloak.realm) == {student.clever_id: ids[1]}


def test_the_next_sync_links_the_chosen_account(settings: Settings, keycloak_admin: KeycloakAdmin) -> None:
    school = make_school("Lincoln School")
    student = make_student("Jess", "Datos", school=school.clever_id)
    ids = twins(keycloak_admin)
    source = MemorySource(MemoryRoster([school], [student], []))
    run_sync(settings, source=source)
    resolutions.resolve(
        Redis.from_url(settings.redis_url), settings.keycloak.realm, student.clever_id, ids[1]
    )
    report = run_sync(settings, source=source, run=RunOptions(full=True))
    assert not report.ambiguous
    chosen = keycloak_admin.get_user(ids[1])
    assert chosen.get("attributes", {}).get("clever_id") == [student.clever_id]
    assert keycloak_admin.get_user(ids[0]).get("attributes", {}).get("clever_id") is None
