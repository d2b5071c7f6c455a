"""Issue 14, point 9: user calls read Clever's Data API v3.1 (falling back to v3.0 on 404/403, or
pinned); a student's preferred name is the first name shown (an option, on by default), the legal
one kept in ``clever_legal_first_name``; v3.1's sensitive student fields are never read nor
written anywhere. A roster file built here, a real sandbox, the real Keycloak, OpenLDAP, Redis.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection
from redis import Redis

from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.hard_roster import HardRoster, accounts, run, served

pytestmark = pytest.mark.integration
REDIS_DB = 5
SENSITIVE = {
    "iep_status": "IEP-4417",
    "frl_status": "Reduced",
    "disability": {"disability_code": "DIS-9931", "disability_status": "Y", "disability_type": "Autism"},
    "section_504_status": "Y",
    "gifted_status": "Y",
    "home_language": "Icelandic",
    "home_language_code": "ISL-7713",
}
# What must appear nowhere the sync writes: the values, and the field names themselves.
TELLTALES = ("IEP-4417", "Reduced", "DIS-9931", "Autism", "Icelandic", "ISL-7713",
             "iep", "frl", "section_504", "gifted", "home_language", "disability")  # fmt: skip


@pytest.fixture
def state(redis_url: str) -> SyncState:
    return SyncState.from_url(redis_url)


def _roster() -> tuple[HardRoster, str, str]:
    roster = HardRoster()
    teacher = roster.person("teacher", "Ann", "Lee")
    robert = roster.student(
        "Robert", "Ng", role_data={"preferred_name": {"first": "Bobby", "last": ""}, **SENSITIVE}
    )
    roster.section("Math", teacher, [robert])
    return roster, teacher, robert


def _value(redis: Redis, key: bytes) -> object:
    kind = redis.type(key).decode()
    if kind == "string":
        return redis.get(key)
    if kind == "hash":
        return redis.hgetall(key)
    if kind == "list":
        return redis.lrange(key, 0, -1)
    if kind == "set":
        return redis.smembers(key)
    return redis.zrange(key, 0, -1) if kind == "zset" else b""


def _everything_written(admin: KeycloakAdmin, ldap: Connection, redis_url: str, groups_dn: str) -> str:
    """Every account, group, LDAP entry and Redis value the sync could have written, as text."""
    found = [json.dumps(admin.get_users({"briefRepresentation": False, "max": 1000}))]
    found.append(json.dumps(admin.get_groups({"briefRepresentation": False, "max": 1000})))
    for group in admin.get_groups({"max": 1000}):
        found.append(json.dumps(admin.get_group(group["id"])))
        found += [
            json.dumps(c) for c in admin.get_group_children(group["id"], {"briefRepresentation": False})
        ]
    ldap.search(groups_dn, "(objectClass=*)", SUBTREE, attributes=["*"])
    found += [entry.entry_to_json() for entry in ldap.entries]
    redis = Redis.from_url(redis_url)
    for key in redis.scan_iter():
        found.append(f"{key!r} {_value(redis, key)!r}")
    return "\n".join(found)


def test_preferred_names_are_shown_and_sensitive_fields_go_nowhere(
    settings: Settings,
    state: SyncState,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    roster, _, robert = _roster()
    caplog.set_level(logging.DEBUG)
    with served(settings, roster, tmp_path) as clever:
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)[robert]
        assert held["firstName"] == "Bobby" and held["attributes"]["clever_legal_first_name"] == ["Robert"]
        written = _everything_written(keycloak_admin, ldap_conn, settings.redis_url, settings.ldap.groups_dn)
        written += json.dumps(report.to_dict()) + caplog.text
        assert robert in written and "Bobby" in written  # the search reads what was written
        assert [t for t in TELLTALES if t.lower() in written.lower()] == []

        legal = run(clever.with_options(use_preferred_names=False), state, full=False)
        assert legal.status == "ok" and legal.mode == "full", legal.summary()
        held = accounts(keycloak_admin)[robert]
        assert held["firstName"] == "Robert" and "clever_legal_first_name" not in held["attributes"]


@pytest.mark.parametrize(
    ("allowed", "pinned", "shown"),
    [
        (("v3.0",), "auto", "Robert"),
        (("v3.0", "v3.1"), "v3.0", "Robert"),
        (("v3.0", "v3.1"), "v3.1", "Bobby"),
    ],
    ids=["app-without-v3.1-falls-back", "pinned-v3.0", "pinned-v3.1"],
)
def test_an_app_without_v3_1_falls_back_to_v3_0_and_a_setting_pins_either(
    settings: Settings,
    state: SyncState,
    keycloak_admin: KeycloakAdmin,
    tmp_path: Path,
    allowed: tuple[str, ...],
    pinned: str,
    shown: str,
) -> None:
    roster, teacher, robert = _roster()
    with served(settings, roster, tmp_path, api_versions=allowed) as clever:
        clever = dataclasses.replace(clever, clever=dataclasses.replace(clever.clever, api_version=pinned))
        report = run(clever, state)
        assert report.status == "ok", report.summary()
        held = accounts(keycloak_admin)
        assert set(held) == {teacher, robert} and held[robert]["firstName"] == shown
