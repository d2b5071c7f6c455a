"""What production does to a sync: a CLI or worker killed mid-run (on the REST path, and mid-batch
on the extension's), Redis, slapd and PostgreSQL restarted.

Each test kills a real process (``kill -9``) or restarts a real service at a point of the run,
then checks what an admin would: the district is free again within the lease (not six hours), the
dead run's report says what happened (a service that went away is named, with what to check, and
the counts are what the run wrote), the next run says it took over, and the realm converges to
exactly the state a clean run leaves (users, attributes, links, groups, memberships, LDAP groups).
A job killed before it held its lease: ``test_faults_lock.py``; a Redis restart that must lose
nothing: ``test_redis_restart.py``.
The lease is 3 seconds here (``KCC_LOCK_LEASE_SECONDS``) so the suite stays short; every wait is
bounded. Real Keycloak, Redis, OpenLDAP, the sandbox over HTTP.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors.keycloak_ldap import ldap_federation_component
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import DIED
from plugin.sync.run_options import RunOptions
from tests.conftest import ROOT
from tests.fault_world import (
    LEASE,
    FaultWorld,
    fault_world_of,
    kill_worker,
    services_up,
    steady,
    stop_postgres,
    students,
    wait,
)
from tests.integration.test_sync_sandbox import _assert_state
from tests.sync_expect import actual_keycloak, actual_ldap, expected_keycloak, expected_ldap

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def fault_world(settings: Settings, keycloak_admin: KeycloakAdmin) -> Iterator[FaultWorld]:
    """A 250-student sandbox (a full run takes seconds, long enough to be killed in) as Clever.

    The faults strike between writes, so the run writes one person at a time (the REST path); the
    extension's batches have their own kill test (``test_a_cli_killed_mid_batch...``)."""
    with fault_world_of(settings, keycloak_admin, size=250, bulk=False) as world:
        yield world


def _running(world: FaultWorld) -> bool:
    reports = world.state.history(world.district_id, 1)
    return bool(reports) and reports[0].status == "running"


def _assert_taken_over(world: FaultWorld, dead: str, admin: KeycloakAdmin, conn: Connection) -> None:
    """The district frees itself within the lease; the next run takes over and converges."""
    lapsed = wait("the dead run's lease lapses", lambda: world.state.running(world.district_id) is None)
    assert lapsed <= LEASE + 1
    code, report = world.sync("--full")
    assert code == 0 and report["status"] == "ok", report
    assert f"run {dead} had stopped without finishing (worker died): taken over" in report["warnings"]
    dead_report = world.state.report(dead)
    assert dead_report is not None and dead_report.status == "failed" and DIED in dead_report.errors
    _assert_state(world.sandbox, admin, conn, world.settings.ldap.groups_dn)
    code, again = world.sync("--full", "--dry-run")
    assert code == 0 and {k: v for k, v in again["preview"]["keycloak"].items() if v} == {}  # type: ignore[index, union-attr]


@pytest.mark.parametrize("point", ["reading", "writing"])
def test_a_cli_killed_mid_run_frees_the_district_and_the_next_run_converges(
    fault_world: FaultWorld, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, point: str
) -> None:
    world = fault_world
    proc = world.cli("--full")
    if point == "reading":
        wait("the run starts", lambda: _running(world))
    else:
        wait("the run writes", lambda: students(keycloak_admin) >= 40)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    dead = world.state.history(world.district_id, 1)[0].run_id
    assert world.state.report(dead).status == "running"  # type: ignore[union-attr]
    assert world.state.running(world.district_id) == dead  # held until its lease lapses
    _assert_taken_over(world, dead, keycloak_admin, ldap_conn)


@pytest.fixture
def batch_world(settings: Settings, keycloak_admin: KeycloakAdmin) -> Iterator[FaultWorld]:
    """1,000 students (and their teachers and staff) written through the clever-sync extension:
    three batches of at most 500, sent at once, one transaction each; a kill after the first batch
    committed lands with the others in flight."""
    with fault_world_of(settings, keycloak_admin, size=1000, bulk=True) as world:
        yield world


def test_a_cli_killed_mid_batch_on_the_extension_path_frees_the_district_and_the_next_run_converges(
    batch_world: FaultWorld, keycloak_admin: KeycloakAdmin, ldap_conn: Connection
) -> None:
    world = batch_world
    proc = world.cli("--full")
    wait("the first batch commits", lambda: students(keycloak_admin) > 0, limit=300, every=0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    at_kill = students(keycloak_admin)
    assert at_kill < 1000  # the kill landed mid-run
    # Batches in flight when the CLI died are Keycloak's to finish or roll back (one transaction each).
    after = steady(lambda: students(keycloak_admin))
    print(f"students at the kill: {at_kill}; once Keycloak settled: {after} of 1000")
    dead = world.state.history(world.district_id, 1)[0].run_id
    assert world.state.report(dead).status == "running"  # type: ignore[union-attr]
    _assert_taken_over(world, dead, keycloak_admin, ldap_conn)


def test_a_worker_killed_mid_job_frees_the_district_and_a_new_run_converges(
    fault_world: FaultWorld, keycloak_admin: KeycloakAdmin, ldap_conn: Connection
) -> None:
    world = fault_world
    run_id, queued = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    assert queued
    worker = world.worker()
    try:
        wait("the job writes", lambda: students(keycloak_admin) >= 40)
    finally:
        kill_worker(worker)  # the host died: worker and work horse
    assert world.state.report(run_id).status == "running"  # type: ignore[union-attr]
    again, fresh = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    if not fresh:  # the dead run's lease has not lapsed yet: the district is still refused ...
        assert again == run_id
        wait("the lease lapses", lambda: world.state.running(world.district_id) is None, LEASE + 1)
        again, fresh = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    assert fresh  # ... and free within the lease
    world.burst()
    report = world.state.report(again)
    assert report is not None and report.status == "ok", report
    history = [(r.run_id, r.status, r.errors) for r in world.state.history(world.district_id)]
    assert f"run {run_id} had stopped without finishing (worker died): taken over" in report.warnings, history
    assert world.state.report(run_id).status == "failed"  # type: ignore[union-attr]
    _assert_state(world.sandbox, keycloak_admin, ldap_conn, world.settings.ldap.groups_dn)


def _assert_stopped_by(report: dict[str, Any], system: str, starts: str, check: str) -> None:
    """The run stopped, its report says which part failed and what to check, counts it under that
    part, and counts what it wrote before it stopped (not what it planned)."""
    stopped = [e for e in report["errors"] if e.startswith(starts)]
    assert stopped and check in stopped[0], report["errors"]
    assert "Error" not in stopped[0].split(":", 1)[0]  # no exception class names
    assert report["preview"]["errors_by_system"][system] >= 1, report["preview"]["errors_by_system"]
    planned = report["preview"]["keycloak"]["create_users"]
    created = sum(report["kinds"][kind]["created"] for kind in ("students", "teachers", "staff", "parents"))
    assert 40 <= created < planned, (created, planned)  # it had written 40 students when it broke


def _restart(service: str, services_env: dict[str, str]) -> None:
    """kill -9 the service's process, then ``scripts/services up`` starts it again."""
    pid_file = {"redis": "redis/redis.pid", "ldap": "ldap/slapd.pid"}[service]
    pid = int((ROOT / "var" / pid_file).read_text().strip())
    subprocess.run(["kill", "-9", str(pid)], check=True)
    wait(
        f"{service} stops",
        lambda: subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0,
    )
    up = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stderr[-2000:]


def _reconnect(conn: Connection) -> None:
    """The test's own LDAP connection after slapd came back."""
    if not conn.closed:
        conn.unbind()
    conn.open()
    assert conn.bind(), conn.result


def test_redis_restarted_mid_run_the_next_run_converges(
    fault_world: FaultWorld,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    services_env: dict[str, str],
) -> None:
    world = fault_world
    proc = world.cli("--full")
    wait("the run writes", lambda: students(keycloak_admin) >= 40)
    _restart("redis", services_env)
    proc.communicate(timeout=300)
    reports = world.state.history(world.district_id, 1)
    dead = reports[0].run_id if reports and reports[0].status == "running" else ""
    # Redis came back from its append-only file: the lock (if the run was still going) lapses.
    wait("the lock lapses", lambda: world.state.running(world.district_id) is None, LEASE + 2)
    code, report = world.sync("--full")
    assert code == 0 and report["status"] == "ok", report
    if dead:
        assert world.state.report(dead).status == "failed"  # type: ignore[union-attr]
    _assert_state(world.sandbox, keycloak_admin, ldap_conn, world.settings.ldap.groups_dn)


def test_slapd_killed_mid_run_is_reported_as_ldap_with_what_was_written_and_the_next_run_converges(
    fault_world: FaultWorld,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    services_env: dict[str, str],
) -> None:
    world = fault_world
    # The district's directory, WRITABLE with new accounts written into it: every account the sync
    # creates goes through Keycloak's LDAP federation.
    realm_id = keycloak_admin.get_realm(keycloak_admin.connection.realm_name)["id"]
    component = ldap_federation_component(realm_id, world.settings.ldap, mode="WRITABLE")
    component["config"]["syncRegistrations"] = ["true"]
    keycloak_admin.create_component(component)
    proc = world.cli("--full", "--json")
    wait("the run writes", lambda: students(keycloak_admin) >= 40)
    pid = int((ROOT / "var" / "ldap" / "slapd.pid").read_text().strip())
    subprocess.run(["kill", "-9", str(pid)], check=True)
    out, err = proc.communicate(timeout=300)
    up = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stderr[-2000:]
    _reconnect(ldap_conn)
    assert out.strip(), err[-3000:]
    report = json.loads(out)  # a run that failed still prints its report as JSON ...
    assert (report["status"], proc.returncode) == ("failed", 1), report["errors"]  # ... and exits 1
    _assert_stopped_by(report, "ldap", "LDAP: ", f"Check that the directory at {world.settings.ldap.url}")
    code, again = world.sync("--full")
    assert code == 0 and again["status"] == "ok", again
    # An account Keycloak half-made while its directory went away (its names in LDAP, lost) is
    # only put right by a verify run, which reads every account in full: the documented step.
    code, verified = world.sync("--verify")
    assert code == 0 and verified["status"] == "ok", verified
    # Keycloak holds exactly the roster; the accounts it made went into the WRITABLE directory
    # too, so LDAP's class groups list their entries: the groups are checked, not their members.
    expected = expected_keycloak(world.sandbox)
    actual = actual_keycloak(keycloak_admin, expected["users"])
    wrong = {
        clever_id: (want, actual["users"].get(clever_id))
        for clever_id, want in expected["users"].items()
        if actual["users"].get(clever_id) != want
    }
    assert not wrong, list(wrong.items())[:3]
    assert actual["groups"] == expected["groups"]
    groups_dn = world.settings.ldap.groups_dn
    assert set(actual_ldap(ldap_conn, groups_dn)) == set(expected_ldap(world.sandbox, groups_dn))


def test_postgresql_restarted_mid_run_is_reported_as_keycloaks_database_and_the_next_run_converges(
    fault_world: FaultWorld,
    keycloak_admin: KeycloakAdmin,
    ldap_conn: Connection,
    services_env: dict[str, str],
) -> None:
    """Keycloak answers 500 to everything while its database is away, as to any fault of its own:
    its readiness check (database DOWN) is what names the database."""
    world = fault_world
    proc = world.cli("--full", "--json")
    wait("the run writes", lambda: students(keycloak_admin) >= 40)
    stop_postgres(services_env)
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        services_up()  # PostgreSQL again, and Keycloak ready on it
    assert out.strip(), err[-3000:]
    report = json.loads(out)
    assert (report["status"], proc.returncode) == ("failed", 1), report["errors"]
    _assert_stopped_by(
        report, "keycloak_database", "Keycloak's database: ", "Check Keycloak's database (PostgreSQL)"
    )
    code, again = world.sync("--full")
    assert code == 0 and again["status"] == "ok", again
    _assert_state(world.sandbox, keycloak_admin, ldap_conn, world.settings.ldap.groups_dn)
