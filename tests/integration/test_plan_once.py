"""Plan once (issue 25): an incremental run ends exactly where a full run of the same roster ends.

On a small sandbox district served over HTTP, random Clever changes (``tests.roster_changes``), each
followed by an incremental run from the saved event cursor, end in the very state that one full run
of the final roster makes in a fresh realm: the same accounts, attributes, links, groups, members
and LDAP groups (``tests.realm_export``), for every combination of Force Unique Class Names and
Sync Parent Data, with the clever-sync extension and without it (``REST_ONLY``: the two ways an
incremental run reads Keycloak); and a full run that then reads every member list finds nothing to
write. Real Keycloak, OpenLDAP, Redis; the sandbox plays Clever.

CI runs one fixed seed per combination, a few steps each. A longer run:
``PLAN_ONCE_SEEDS=20 PLAN_ONCE_STEPS=8 pytest tests/integration/test_plan_once.py`` (seeds 1..20 on
top of the fixed ones; each step makes three changes).

Also here, the two bugs the issue names, each a plain test: an incremental ``users.updated`` of a
student kept their ``clever_relationships`` (Sync Parent Data on); the by-name link an incremental
run makes is in ``test_ownership_record``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection
from redis import Redis

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sso.setup import ensure_service_account
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState
from tests.conftest import fresh_ou, fresh_realm, realm_admin, settings_for
from tests.realm_export import Export, export_realm
from tests.roster_changes import RosterChanges

pytestmark = pytest.mark.integration
REDIS_DB = 11  # and 12 for the fresh realm's run (the event cursor is kept per district)
STUDENTS = 10
CHANGES_A_STEP = 3
STEPS = int(os.environ.get("PLAN_ONCE_STEPS", "3"))
EXTRA_SEEDS = range(1, int(os.environ.get("PLAN_ONCE_SEEDS", "0")) + 1)
# (Force Unique Class Names, Sync Parent Data) -> the seed CI runs.
COMBINATIONS = {(False, False): 101, (False, True): 102, (True, False): 107, (True, True): 113}
# How these combinations' runs reach Keycloak: through the admin REST API alone (an incremental run
# reads a call at a time); the others with the clever-sync extension (the rows of the scope's
# accounts and classes: ``connectors.keycloak_rows.read_rows_of``).
REST_ONLY = {(False, True), (True, False)}


@dataclass
class World:
    """One realm, its LDAP OU and Redis database, and Settings with the sandbox as Clever."""

    admin: KeycloakAdmin
    settings: Settings
    state: SyncState

    def sync(self, run_id: str, *, full: bool, verify: bool = False) -> SyncReport:
        settings = self.settings
        report = jobs.run_locked(
            settings,
            self.state,
            settings.clever.district_id,
            run_id,
            RunOptions(full=full, verify=verify),
            source=CleverClient(settings.clever),
        )
        assert report.status in ("ok", "no-changes"), report.summary()
        assert report.errors == [], report.errors
        return report


@contextmanager
def world(
    services_env: dict[str, str],
    master: KeycloakAdmin,
    conn: Connection,
    redis_url: str,
    clever: Any,
    options: dict[str, Any],
    rest_only: bool = False,
) -> Iterator[World]:
    Redis.from_url(redis_url).flushdb()
    with fresh_realm(master) as realm, fresh_ou(services_env, conn) as ou:
        admin = realm_admin(services_env, realm)
        settings = settings_for(services_env, realm, ou, redis_url, ensure_service_account(admin))
        settings = dataclasses.replace(settings, clever=clever).with_options(brake_ratio=1.0, **options)
        if rest_only:  # no clever-sync extension: the admin REST API alone
            rest = dataclasses.replace(settings.keycloak, bulk=False)
            settings = dataclasses.replace(settings, keycloak=rest)
        ensure_broker(admin, settings)  # the Clever identity provider the links point at
        yield World(admin, settings, SyncState.from_url(redis_url))
    Redis.from_url(redis_url).flushdb()


@contextmanager
def sandbox(seed: int, base: Settings) -> Iterator[tuple[SandboxState, Any]]:
    """A small generated district on a real socket, and the Clever settings that reach it."""
    app = create_app(SandboxConfig(size=STUDENTS, seed=seed))
    state: SandboxState = app.extensions["clever_sandbox"]
    with serve(app) as url:
        yield (
            state,
            dataclasses.replace(
                base.clever,
                oauth_url=url,
                api_url=url,
                client_id="sandbox-client",
                client_secret="sandbox-secret",
                district_id=state.district_id,
            ),
        )


def differences(
    left: Any,
    right: Any,
    path: str = "",
    found: list[str] | None = None,
    *,
    names: tuple[str, str] = ("the incremental runs", "the fresh full run"),
) -> list[str]:
    """Where two exports differ, as ``path: left != right`` lines (the first 40); ``names`` say
    what made each side."""
    found = [] if found is None else found
    if len(found) >= 40:
        return found
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            if key not in right:
                found.append(f"{path}/{key}: only after {names[0]}: {left[key]!r}"[:400])
            elif key not in left:
                found.append(f"{path}/{key}: only after {names[1]}: {right[key]!r}"[:400])
            else:
                differences(left[key], right[key], f"{path}/{key}", found, names=names)
    elif left != right:
        found.append(f"{path}: {left!r} != {right!r}"[:400])
    return found


def still_in_clever(followed: Export, fresh: Export) -> Export:
    """``followed`` without the accounts in no Clever group that ``fresh`` does not have: people
    still in Clever whose account a full run keeps but never makes (a parent whose children all
    left, a person out of the chosen schools). The verify run shows a full run keeps them too."""
    accounts = {
        clever_id: account
        for clever_id, account in followed["accounts"].items()
        if account["groups"] or clever_id in fresh["accounts"]
    }
    return {**followed, "accounts": accounts}


def seeds(combination: tuple[bool, bool]) -> list[int]:
    return [COMBINATIONS[combination], *(1000 * COMBINATIONS[combination] + n for n in EXTRA_SEEDS)]


@pytest.mark.parametrize(
    ("unique", "parents"),
    list(COMBINATIONS),
    ids=[f"unique={u}-parents={p}" for u, p in COMBINATIONS],
)
def test_incremental_runs_after_random_changes_end_where_a_fresh_full_run_ends(
    unique: bool,
    parents: bool,
    services_env: dict[str, str],
    keycloak_master: KeycloakAdmin,
    ldap_conn: Connection,
    settings: Settings,
    redis_url: str,
) -> None:
    options: dict[str, Any] = {"force_unique_class_names": unique, "sync_parent_data": parents}
    rest_only = (unique, parents) in REST_ONLY
    fresh_redis = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB + 1}"
    for seed in seeds((unique, parents)):
        with ExitStack() as stack:
            district, clever = stack.enter_context(sandbox(seed, settings))
            args = (services_env, keycloak_master, ldap_conn)
            followed = stack.enter_context(world(*args, redis_url, clever, options, rest_only))
            followed.sync("first", full=True)
            changes = RosterChanges(district, seed)
            made: list[str] = []
            read_by: set[str] = set()
            for step in range(STEPS):
                made += [f"step {step}: {change}" for change in changes.step(CHANGES_A_STEP)]
                report = followed.sync(f"step{step}", full=False)
                assert report.mode == "incremental", (seed, made, report.warnings)
                read_by.add(report.preview["keycloak_read_by"])
            # Without the extension a call at a time; with it, the rows of the scope.
            assert read_by == ({"calls"} if rest_only else {"rows"}), (seed, read_by)
            after_events = export_realm(followed.admin, ldap_conn, followed.settings.ldap.groups_dn)
            fresh = stack.enter_context(world(*args, fresh_redis, clever, options))
            fresh.sync("fresh", full=True)
            wanted: Export = export_realm(fresh.admin, ldap_conn, fresh.settings.ldap.groups_dn)
            kept = still_in_clever(after_events, wanted)
            # A full run that reads every member list finds nothing left to write (said with what
            # differs from the fresh realm, when anything does).
            check = followed.sync("verify", full=True, verify=True)
            said = [f"seed {seed}, {options}", *made, check.summary(), *map(str, check.preview.items())]
            assert check.writes == {"keycloak": 0, "ldap": 0}, "\n".join(
                [*said, "differences from a fresh full run:", *differences(kept, wanted)]
            )
            assert kept == wanted, "\n".join(
                [f"seed {seed}, {options}", *made, "differences:", *differences(kept, wanted)]
            )


def test_an_incremental_update_of_a_student_keeps_their_relationships(
    settings: Settings, sandbox_state: SandboxState, clever_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    """Sync Parent Data on: a student renamed in Clever (``users.updated``) keeps the
    ``clever_relationships`` their parents give them; the next full run has nothing to write back."""
    on = clever_settings.with_options(sync_parent_data=True)
    ensure_broker(keycloak_admin, on)
    followed = World(keycloak_admin, on, SyncState.from_url(on.redis_url))
    followed.sync("full1", full=True)
    student = next(
        s
        for s in sandbox_state.people("student")
        if sandbox_state.store.ids("mycontacts", s["id"])
        and _attributes(keycloak_admin, s["id"]).get("clever_relationships")
    )
    before = _attributes(keycloak_admin, student["id"])["clever_relationships"]
    sandbox_state.update("users", student["id"], {"name": {**student["name"], "first": "Renamed"}})

    events = followed.sync("events", full=False)

    assert events.mode == "incremental", events.warnings
    after = _attributes(keycloak_admin, student["id"])
    assert after.get("clever_relationships") == before
    full = followed.sync("full2", full=True)
    assert full.kinds["students"]["updated"] == 0, full.summary()


def _attributes(admin: KeycloakAdmin, clever_id: str) -> dict[str, list[str]]:
    found = admin.get_users({"idpAlias": "clever", "idpUserId": clever_id, "briefRepresentation": False})
    attributes: dict[str, list[str]] = found[0].get("attributes") or {} if found else {}
    return attributes
