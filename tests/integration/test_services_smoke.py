"""Each service is real: Keycloak, OpenLDAP and Redis+RQ answer as themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from redis import Redis

from plugin.runs import queues
from tests.conftest import ROOT, LdapOu
from tests.idp import register_idp
from worker import QUEUE_NAME

pytestmark = pytest.mark.integration


def test_keycloak_keeps_a_user_a_group_and_a_federated_identity_link(keycloak_admin: KeycloakAdmin) -> None:
    register_idp(keycloak_admin)
    group_id = keycloak_admin.create_group({"name": "Smoke Class"})
    user_id = keycloak_admin.create_user({"username": "smoke.student", "enabled": True, "firstName": "Jess"})
    keycloak_admin.group_user_add(user_id, group_id)
    keycloak_admin.add_user_social_login(user_id, "clever", "5a25ffb0c1bc2a00360003ed", "jess")

    user = keycloak_admin.get_user(user_id)
    assert (user["username"], user["firstName"]) == ("smoke.student", "Jess")
    assert [g["name"] for g in keycloak_admin.get_user_groups(user_id)] == ["Smoke Class"]
    links = keycloak_admin.get_user_social_logins(user_id)
    assert [(link["identityProvider"], link["userId"]) for link in links] == [
        ("clever", "5a25ffb0c1bc2a00360003ed")
    ]


def test_ldap_finds_an_entry_whose_name_needs_escaping(ldap_conn: Connection, ldap_ou: LdapOu) -> None:
    awkward = 'O\'Hara, Jr. + "Kid" \\ <1> ; a=b #1'
    dn = f"cn={escape_rdn(awkward)},{ldap_ou.people_dn}"
    assert ldap_conn.add(dn, ["inetOrgPerson"], {"sn": "O'Hara", "cn": awkward}), ldap_conn.result

    ldap_conn.search(ldap_ou.people_dn, f"(cn={escape_filter_chars(awkward)})", SUBTREE, attributes=["cn"])
    assert [entry.cn.value for entry in ldap_conn.entries] == [awkward]
    # The unescaped value is a different (and here, malformed or non-matching) filter.
    ldap_conn.search(ldap_ou.people_dn, "(cn=O'Hara*)", SUBTREE, attributes=["cn"])
    assert len(ldap_conn.entries) == 1


def test_a_real_rq_worker_process_runs_an_enqueued_job(redis_url: str, services_env: dict[str, str]) -> None:
    connection = Redis.from_url(redis_url)
    marker = uuid.uuid4().hex
    job = queues.queue(QUEUE_NAME, connection).enqueue("tests.jobs.record_marker", redis_url, marker)

    env = {**os.environ, **{k: v for k, v in services_env.items() if k.startswith("KCC_")}}
    env["KCC_REDIS_URL"] = redis_url
    done = subprocess.run(
        [sys.executable, str(ROOT / "worker.py"), "--burst"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    job.refresh()
    assert job.is_finished
    worker_pid = int(connection.get(f"smoke:{marker}") or 0)
    assert worker_pid == job.return_value()
    assert worker_pid not in (0, os.getpid())
