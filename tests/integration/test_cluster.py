"""Two Keycloak nodes, one cluster (issue 28): two workers on two nodes end where one worker on one ends.

The suite's own services run one Keycloak node (``--cache=local``, as ``make test``, ``make demo``
and CI always have). This module starts a second set of services of its own for the length of the
module: ``KEYCLOAK_NODES=2 scripts/services up`` in ``var/cluster`` on the suite's ports + 2 (two
Keycloak nodes built with ``--cache=ispn``, clustered by Keycloak's jdbc-ping stack on their one
PostgreSQL database; its own Redis and OpenLDAP), and stops it afterwards (``scripts/services
down``). It is part of ``make test`` (CI): 3 to 4 minutes on a busy 2-core machine when
``var/cluster`` is kept from an earlier run (70 to 80 s of it the two nodes starting), 9 on a fresh
clone there (Keycloak unpacked, built and its database made once).

* the nodes are one cluster: each logs a cluster view of two members; what is written through node 1
  is read through node 2, also after node 2 had it cached (a group renamed);
* the sharded run (``plugin.runs.scaleout``: one prepare job, then two shard jobs) on two RQ worker
  processes, the first with ``KCC_KEYCLOAK_URL`` of node 1 and the second of node 2 (each applies
  one shard), ends in the very realm and LDAP groups (``tests.realm_export``: accounts, attributes,
  links, groups, members, LDAP groups) that one full run on node 1 makes of the same district.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from bench.scale import sharded_run
from plugin.config.settings import load_env_file
from tests.conftest import ROOT, LdapOu, ldap_admin, realm_admin, settings_for
from tests.fault_world import sandbox_environment
from tests.integration.test_plan_once import differences, sandbox, world
from tests.realm_export import export_realm

pytestmark = pytest.mark.integration
CLUSTER_VAR = ROOT / "var" / "cluster"
PORTS = ("KEYCLOAK_PORT", "KEYCLOAK_MANAGEMENT_PORT", "REDIS_PORT", "LDAP_PORT", "POSTGRES_PORT")
# Node 2 takes KEYCLOAK_PORT+1 and KEYCLOAK_MANAGEMENT_PORT+1: the set starts at the suite's + 2.
OFFSET = 2
SEED = 101


def cluster_environment() -> dict[str, str]:
    """The environment of ``scripts/services`` for the two-node set: ``var/cluster``, the suite's
    ports (``services/versions.env``, or the environment's) + ``OFFSET``."""
    shown = subprocess.run(
        ["bash", "-c", f'. "{ROOT}/services/versions.env" && echo ' + " ".join(f"${p}" for p in PORTS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ports = {name: str(int(port) + OFFSET) for name, port in zip(PORTS, shown, strict=True)}
    return (
        os.environ
        | ports
        | {
            "KCC_VAR_DIR": str(CLUSTER_VAR),
            "KEYCLOAK_NODES": "2",
            "KEYCLOAK_BACKEND": "postgres",
            "KEYCLOAK_HEAP": "-Xms128m -Xmx1g",
        }
    )


@pytest.fixture(scope="module")
def cluster_env() -> Iterator[dict[str, str]]:
    """``var/cluster/services.env`` of a running two-node set; stopped after the module."""
    env = cluster_environment()
    services = str(ROOT / "scripts" / "services")
    try:
        started = subprocess.run([services, "up"], env=env, capture_output=True, text=True, check=False)
        if started.returncode != 0:
            pytest.fail(f"the two-node services would not start:\n{started.stderr[-3000:]}", pytrace=False)
        yield load_env_file(str(CLUSTER_VAR / "services.env"))
    finally:
        subprocess.run([services, "down"], env=env, capture_output=True, text=True, check=False)


def master_of(env: dict[str, str], url: str) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=url,
        username=env["KEYCLOAK_ADMIN_USER"],
        password=env["KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="master",
    )


def on_node_2(env: dict[str, str], realm: str) -> KeycloakAdmin:
    """An admin client of ``realm`` that talks to node 2."""
    return realm_admin(env | {"KEYCLOAK_URL": env["KEYCLOAK_URL_2"]}, realm)


@pytest.fixture
def cluster_ldap(cluster_env: dict[str, str]) -> Iterator[Connection]:
    with ldap_admin(cluster_env) as conn:
        yield conn


def cluster_views(log: Path) -> list[int]:
    """The member counts of the cluster views a Keycloak node's log reports (ISPN000094)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return [int(n) for n in re.findall(r"ISPN000094: Received new cluster view .*?\] \((\d+)\)", text)]


def test_two_nodes_are_one_cluster_on_one_database(cluster_env: dict[str, str]) -> None:
    for log in ("keycloak.log", "keycloak-2.log"):
        assert 2 in cluster_views(CLUSTER_VAR / "log" / log), f"{log}: no cluster view of two members"
    # In master (a realm made and deleted costs the cluster seconds): a user and a group of our own.
    one = master_of(cluster_env, cluster_env["KEYCLOAK_URL"])
    two = master_of(cluster_env, cluster_env["KEYCLOAK_URL_2"])
    name = f"t-{uuid.uuid4().hex[:12]}"
    user_id = one.create_user({"username": name, "enabled": True})
    group_id = one.create_group({"name": f"{name}-before"})
    try:
        assert two.get_user(user_id)["username"] == name
        assert two.get_group(group_id)["name"] == f"{name}-before"  # node 2 has it cached now
        one.update_group(group_id, {"name": f"{name}-after"})
        assert two.get_group(group_id)["name"] == f"{name}-after"  # node 1's write invalidated it
        two.update_user(user_id, {"firstName": "Renamed"})
        assert one.get_user(user_id)["firstName"] == "Renamed"
    finally:
        one.delete_group(group_id)
        one.delete_user(user_id)


def test_two_workers_on_two_nodes_end_where_one_worker_on_one_node_ends(
    cluster_env: dict[str, str], cluster_ldap: Connection
) -> None:
    master = master_of(cluster_env, cluster_env["KEYCLOAK_URL"])
    redis = cluster_env["REDIS_URL"].rsplit("/", 1)[0]
    with ExitStack() as stack:
        base = settings_for(cluster_env, "unused", LdapOu("", "", ""), f"{redis}/1", "unused")
        district, clever = stack.enter_context(sandbox(SEED, base))
        args = (cluster_env, master, cluster_ldap)
        one = stack.enter_context(world(*args, f"{redis}/2", clever, {}))
        one.sync("one-worker", full=True)  # a worker's job, on node 1
        wanted = export_realm(one.admin, cluster_ldap, one.settings.ldap.groups_dn)

        two = stack.enter_context(world(*args, f"{redis}/3", clever, {}))
        env = sandbox_environment(two.settings, clever.api_url, district.district_id, bulk=True)
        node_2 = {
            "KCC_KEYCLOAK_URL": cluster_env["KEYCLOAK_URL_2"],
            "KCC_KEYCLOAK_HEALTH_URL": cluster_env["KEYCLOAK_HEALTH_URL_2"],
        }
        run = sharded_run(two.settings.redis_url, district.district_id, [env, env | node_2], per_worker=1)

        assert sorted(shard["keycloak_url"] for shard in run.shards) == sorted(
            [cluster_env["KEYCLOAK_URL"], cluster_env["KEYCLOAK_URL_2"]]
        )
        assert all(shard["people"] > 0 for shard in run.shards), run.shards
        assert [e for r in [run.prepared, *run.shards] for e in r["errors"]] == []
        assert all(worker.returncode == 0 for worker in run.workers)
        names = ("one worker on node 1", "two workers on two nodes")
        for admin in (two.admin, on_node_2(cluster_env, two.settings.keycloak.realm)):
            got = export_realm(admin, cluster_ldap, two.settings.ldap.groups_dn)
            assert got == wanted, "\n".join(differences(wanted, got, names=names))
