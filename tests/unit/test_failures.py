"""A failed run names the part that failed, what happened and what to check (plain data)."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors import clever_json
from model.base import ConfigError, TransientError
from plugin.sync.apply import ApplyError
from plugin.sync.failures import Probes, errors_by_system, failure_line, system_of


def _probes(*, database_down: bool = False, ldap_up: bool = True) -> Probes:
    return Probes(
        keycloak_url="http://kc:8080",
        health_url="http://kc:9000/health/ready",
        ldap_url="ldap://dir:389",
        keycloak_database_down=lambda: database_down,
        ldap_reachable=lambda: ldap_up,
    )


def test_each_part_is_named_with_what_to_check() -> None:
    keycloak = TransientError("Keycloak answered 500 to POST users", system="keycloak")
    database = TransientError("Keycloak answered 500 to POST users", system="keycloak_database")
    ldap = TransientError("LDAP connection lost", system="ldap")
    lines = {
        "keycloak": failure_line(keycloak, _probes()),
        "database": failure_line(database, _probes()),
        "ldap": failure_line(ApplyError(keycloak, ldap), _probes()),
        "redis": failure_line(RedisConnectionError("Connection refused"), _probes()),
    }
    assert lines["keycloak"].startswith("Keycloak: Keycloak answered 500 to POST users")
    assert "Check that Keycloak runs and answers at http://kc:8080" in lines["keycloak"]
    assert lines["database"].startswith("Keycloak's database: ")
    assert "Check Keycloak's database (PostgreSQL)" in lines["database"]
    assert lines["ldap"].startswith("LDAP: the directory stopped our group writes (LDAP connection lost)")
    assert "ldap://dir:389" in lines["ldap"]
    assert lines["redis"].startswith("Redis: Connection refused. Check that Redis runs")
    assert not any("Error" in line.split(".")[0] for line in lines.values())


def test_keycloak_failing_while_its_database_or_the_directory_is_down_names_them() -> None:
    keycloak = TransientError("Keycloak answered 500 to PUT users/1/groups/2", system="keycloak")
    assert failure_line(keycloak, _probes(database_down=True)).startswith("Keycloak's database: ")
    assert failure_line(keycloak, _probes(ldap_up=False)).startswith("LDAP: ")
    assert failure_line(ConfigError("Keycloak refused", system="keycloak"), _probes()).startswith(
        "Keycloak: "
    )


def test_a_connector_that_names_no_part_is_known_by_its_module_and_the_rest_is_the_syncs() -> None:
    with pytest.raises(TransientError) as caught:  # raised in connectors.clever_json
        list(clever_json.list_items(iter([b'{"nothing": 1}']), "GET /v3.0/users"))
    assert system_of(caught.value) == "clever"
    assert system_of(ValueError("a bug")) == "sync"
    assert failure_line(ValueError("a bug"), _probes()).startswith("the sync: a bug. This is a fault")


def test_errors_are_counted_by_the_part_they_name() -> None:
    errors = [
        "keycloak: students c1: no account was made",
        "ldap: ldap cn=x: LDAP refused it",
        "Keycloak's database: Keycloak answered 500. Check ...",
        "LDAP: the directory stopped. Check ...",
        "Clever: GET /v3.0/users: gave up. Check ...",
        "Redis: Connection refused. Check ...",
    ]
    assert errors_by_system(errors) == {
        "clever": 1,
        "keycloak": 1,
        "keycloak_database": 1,
        "ldap": 2,
        "redis": 1,
    }
