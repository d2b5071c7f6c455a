"""The ownership record lives in Keycloak, so nothing the sync remembers elsewhere can lose a link:
a by-name link an incremental run made, a Redis that lost its data, a worker killed once directory
accounts carry their new links, and slapd killed mid-run all end where a clean run ends, with no
membership lost (``model.ownership``). Real Keycloak, OpenLDAP, Redis, the sandbox over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin
from ldap3 import Connection
from redis import Redis

from connectors.keycloak_ldap import federate_ldap
from model.state import USER_KINDS
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app as create_sandbox
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState
from tests.conftest import ROOT, LdapOu
from tests.fault_world import sandbox_environment
from tests.sync_expect import expected_keycloak, raw

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def _run(settings: Settings, state: SyncState, run_id: str, *, full: bool) -> Any:
    report = jobs.run_locked(settings, state, settings.clever.district_id, run_id, RunOptions(full=full))
    assert report.status in ("ok", "no-changes"), report.summary()
    return report


def _groups_of(admin: KeycloakAdmin, keycloak_id: str) -> set[str]:
    return {g["path"] for g in admin.get_user_groups(keycloak_id, brief_representation=True)}


def _owner(admin: KeycloakAdmin, keycloak_id: str) -> str:
    links = admin.get_user_social_logins(keycloak_id)
    return next((link["userId"] for link in links if link["userName"] == f"clever-sync:{link['userId']}"), "")


def test_a_link_an_incremental_run_made_by_name_survives_the_next_full_run(
    clever_settings: Settings, sandbox_state: SandboxState, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)
    state = SyncState.from_url(redis_url)
    _run(settings, state, "full1", full=True)
    mine = keycloak_admin.create_user(
        {"username": "nia.local", "firstName": "Nia", "lastName": "Newlink", "enabled": True}
    )
    school = raw(sandbox_state, "schools")[0]
    section = next(s for s in raw(sandbox_state, "sections") if s["school"] == school["id"])
    nia = sandbox_state.create(
        "users",
        {
            "district": sandbox_state.district_id,
            "name": {"first": "Nia", "last": "Newlink"},
            "roles": {"teacher": {"school": school["id"], "schools": [school["id"]]}},
        },
    )
    sandbox_state.update("sections", section["id"], {"teachers": [*section.get("teachers", []), nia["id"]]})

    events = _run(settings, state, "events", full=False)
    assert events.mode == "incremental"
    assert events.kinds["teachers"]["linked_by_name"] == 1, events.summary()
    assert _owner(keycloak_admin, mine) == nia["id"]
    groups = _groups_of(keycloak_admin, mine)
    assert {f"/Clever/{school['name']}/Teachers"} <= groups
    assert any(path.startswith(f"/Clever/{school['name']}/Classes/") for path in groups)

    full = _run(settings, state, "full2", full=True)
    assert full.kinds["teachers"]["memberships_removed"] == 0, full.summary()
    assert not [w for w in full.waiting if w.get("kind") == "suspicious-link"]
    assert _owner(keycloak_admin, mine) == nia["id"]
    assert _groups_of(keycloak_admin, mine) == groups


def test_after_redis_lost_its_data_a_full_run_removes_nothing_and_is_not_held(
    clever_settings: Settings, sandbox_state: SandboxState, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)
    state = SyncState.from_url(redis_url)
    first = _run(settings, state, "full1", full=True)
    Redis.from_url(redis_url).flushdb()

    again = _run(settings, state, "full2", full=True)

    assert again.status == "ok" and not again.brake.get("held"), again.summary()
    assert again.writes["keycloak"] == 0 and again.writes["ldap"] == 0, again.summary()
    for kind, counts in again.kinds.items():
        assert (counts["disabled"], counts["memberships_removed"]) == (0, 0), kind
    found = sum(counts["found"] for counts in again.kinds.values())
    assert found == sum(first.kinds[kind]["created"] for kind in USER_KINDS) > 0
    assert not again.waiting, again.waiting


# --- faults with directory people -------------------------------------------------------------------


@dataclass
class DirectoryWorld:
    settings: Settings
    sandbox: SandboxState
    env: dict[str, str]
    state: SyncState
    teachers: dict[str, str]  # Clever id -> LDAP uid of the directory's own account

    def cli(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "keycloak-clever"), "sync", "--json", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sync(self, *args: str) -> dict[str, Any]:
        out, err = self.cli(*args).communicate(timeout=300)
        assert out.strip(), err[-3000:]
        report: dict[str, Any] = json.loads(out)
        return report


@pytest.fixture
def directory_world(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> Iterator[DirectoryWorld]:
    """A 250-student sandbox whose teachers already have READ_ONLY directory accounts (the sync links
    them by name); the REST path, one write at a time, so a kill lands between writes."""
    app = create_sandbox(SandboxConfig(size=250, seed=21))
    sandbox: SandboxState = app.extensions["clever_sandbox"]
    teachers: dict[str, str] = {}
    for n, person in enumerate(sandbox.people("teacher")):
        name = person["name"]
        uid = f"staff{n:03d}"
        attributes = {"cn": f"{name['first']} {name['last']}", "sn": name["last"], "givenName": name["first"]}
        assert ldap_conn.add(f"uid={uid},{ldap_ou.people_dn}", ["inetOrgPerson"], attributes)
        teachers[person["id"]] = uid
    with serve(app) as url:
        env = sandbox_environment(settings, url, sandbox.district_id, bulk=False)
        world_settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("KCC_")})
        ensure_broker(keycloak_admin, world_settings)
        federate_ldap(keycloak_admin, world_settings.ldap, mode="READ_ONLY")
        yield DirectoryWorld(world_settings, sandbox, env, jobs.state_for(world_settings), teachers)


def _wait(what: str, done: Callable[[], bool], limit: float = 180.0) -> None:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < limit, f"{what}: not within {limit:.0f} s"
        time.sleep(0.1)


def _linked_directory_accounts(admin: KeycloakAdmin) -> int:
    return sum(
        1 for user in admin.get_users({"idpAlias": "clever", "max": 5000}) if user.get("federationLink")
    )


def _assert_directory_teachers_converged(world: DirectoryWorld, admin: KeycloakAdmin) -> None:
    """Each directory teacher carries their own owned link and exactly the groups the roster gives."""
    expected = expected_keycloak(world.sandbox)["groups"]
    for clever_id, uid in world.teachers.items():
        [account] = admin.get_users({"username": uid, "exact": True})
        assert _owner(admin, account["id"]) == clever_id, uid
        wanted = {path for path, group in expected.items() if clever_id in group["members"]}
        assert _groups_of(admin, account["id"]) == wanted, uid


def test_a_worker_killed_once_directory_accounts_carry_their_links_loses_no_link_or_membership(
    directory_world: DirectoryWorld, keycloak_admin: KeycloakAdmin
) -> None:
    world = directory_world
    proc = world.cli("--full")
    _wait("directory accounts get their links", lambda: _linked_directory_accounts(keycloak_admin) >= 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _wait("the dead run's lease lapses", lambda: world.state.running(world.sandbox.district_id) is None, 30)

    report = world.sync("--full")

    assert report["status"] == "ok", report
    assert not [w for w in report["waiting"] if w.get("kind") == "suspicious-link"], report["waiting"]
    _assert_directory_teachers_converged(world, keycloak_admin)
    again = world.sync("--full")
    assert again["status"] == "ok" and again["writes"] == {"keycloak": 0, "ldap": 0}, again


def test_slapd_killed_mid_run_with_directory_people_the_next_run_loses_no_membership(
    directory_world: DirectoryWorld, keycloak_admin: KeycloakAdmin, ldap_conn: Connection
) -> None:
    world = directory_world
    proc = world.cli("--full")
    _wait("directory accounts get their links", lambda: _linked_directory_accounts(keycloak_admin) >= 1)
    pid = int((ROOT / "var" / "ldap" / "slapd.pid").read_text().strip())
    os.kill(pid, signal.SIGKILL)
    proc.communicate(timeout=300)
    up = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stderr[-2000:]
    if not ldap_conn.closed:
        ldap_conn.unbind()
    ldap_conn.open()
    assert ldap_conn.bind()
    _wait("the lease lapses", lambda: world.state.running(world.sandbox.district_id) is None, 30)

    report = world.sync("--full")

    assert report["status"] == "ok", report
    _assert_directory_teachers_converged(world, keycloak_admin)
    again = world.sync("--full")
    assert again["writes"]["keycloak"] == 0, again


# --- unlinks ---------------------------------------------------------------------------------------


def _password_account_owned_by(admin: KeycloakAdmin, clever_id: str) -> str:
    admin.update_realm_users_profile(
        {**admin.get_realm_users_profile(), "unmanagedAttributePolicy": "ADMIN_EDIT"}
    )
    keycloak_id: str = admin.create_user(
        {
            "username": "owned.teacher",
            "enabled": True,
            "firstName": "Olga",
            "lastName": "Owned",
            "email": "olga@example.org",
            "emailVerified": True,
            "attributes": {"clever_id": [clever_id], "clever_role": ["teacher"]},
            "credentials": [{"type": "password", "value": "Owned-pass-1", "temporary": False}],
        }
    )
    admin.add_user_social_login(keycloak_id, "clever", clever_id, f"clever-sync:{clever_id}")
    return keycloak_id


def test_a_user_cannot_unlink_the_clever_link_the_district_owns(
    clever_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    ensure_broker(keycloak_admin, clever_settings)
    keycloak_id = _password_account_owned_by(keycloak_admin, "5f0c1a2b3c4d5e6f7a8b9c0d")
    keycloak_admin.create_client(
        {
            "clientId": "probe",
            "publicClient": True,
            "directAccessGrantsEnabled": True,
            "standardFlowEnabled": False,
        }
    )
    realm_url = f"{clever_settings.keycloak.url}/realms/{clever_settings.keycloak.realm}"
    token = requests.post(
        f"{realm_url}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "probe",
            "username": "owned.teacher",
            "password": "Owned-pass-1",
        },
        timeout=30,
    ).json()["access_token"]

    requests.delete(
        f"{realm_url}/account/linked-accounts/clever",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )

    assert _owner(keycloak_admin, keycloak_id) == "5f0c1a2b3c4d5e6f7a8b9c0d"


def test_an_admins_unlink_ends_ownership_and_takes_the_clever_data_with_it(
    clever_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    ensure_broker(keycloak_admin, clever_settings)
    keycloak_id = _password_account_owned_by(keycloak_admin, "5f0c1a2b3c4d5e6f7a8b9c0d")

    keycloak_admin.delete_user_social_login(keycloak_id, "clever")

    assert keycloak_admin.get_user_social_logins(keycloak_id) == []
    attributes = keycloak_admin.get_user(keycloak_id).get("attributes") or {}
    assert not [name for name in attributes if name.startswith("clever_")], attributes
