"""Real services once per session; per test a fresh realm, a fresh LDAP OU and an empty Redis db.

The services come from ``scripts/services up`` (started here when not running). When one will not
start the session fails: integration tests are never skipped.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection, Server
from redis import Redis

from connectors.keycloak_account import SERVICE_CLIENT_ID
from plugin.config.settings import Settings, load_env_file
from plugin.sso.setup import ensure_service_account

ROOT = Path(__file__).resolve().parents[1]
SERVICES_ENV = ROOT / "var" / "services.env"
TEST_REDIS_DB = 9
# The sidecar refuses a weak KCC_SECRET_KEY (plugin.config.hardening): tests use 32 random bytes too.
TEST_SECRET_KEY = secrets.token_hex(32)

pytest_plugins = [
    plugin
    for plugin in ("tests.sandbox_fixtures", "tests.browser_fixtures")
    if (ROOT / (plugin.replace(".", "/") + ".py")).exists()
]


@pytest.fixture(scope="session")
def services_env() -> dict[str, str]:
    """The addresses and credentials of the running services (started if needed)."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "services"), "up"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"the services would not start:\n{result.stderr[-3000:]}", pytrace=False)
    return load_env_file(str(SERVICES_ENV))


@pytest.fixture(scope="session")
def keycloak_master(services_env: dict[str, str]) -> KeycloakAdmin:
    """An admin client signed in to the master realm (creates and deletes test realms)."""
    return KeycloakAdmin(
        server_url=services_env["KEYCLOAK_URL"],
        username=services_env["KEYCLOAK_ADMIN_USER"],
        password=services_env["KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="master",
    )


@pytest.fixture
def realm(keycloak_master: KeycloakAdmin) -> Iterator[str]:
    """A fresh, empty realm named by a uuid; deleted afterwards."""
    with fresh_realm(keycloak_master) as name:
        yield name


@contextmanager
def fresh_realm(keycloak_master: KeycloakAdmin) -> Iterator[str]:
    """A fresh, empty realm named by a uuid (a test that needs two uses this for the second)."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    keycloak_master.create_realm({"realm": name, "enabled": True})
    try:
        yield name
    finally:
        keycloak_master.delete_realm(name)


@pytest.fixture
def keycloak_admin(services_env: dict[str, str], realm: str) -> KeycloakAdmin:
    """An admin client for the test's realm, signed in through master."""
    return realm_admin(services_env, realm)


def realm_admin(services_env: dict[str, str], realm: str) -> KeycloakAdmin:
    """An admin client for ``realm``, signed in as the services' admin through master."""
    return KeycloakAdmin(
        server_url=services_env["KEYCLOAK_URL"],
        username=services_env["KEYCLOAK_ADMIN_USER"],
        password=services_env["KEYCLOAK_ADMIN_PASSWORD"],
        realm_name=realm,
        user_realm_name="master",
    )


@dataclass(frozen=True)
class LdapOu:
    """A per-test organizational unit with its own ``people`` and ``groups`` below it."""

    dn: str
    people_dn: str
    groups_dn: str


@contextmanager
def ldap_admin(env: dict[str, str]) -> Iterator[Connection]:
    """A bound ldap3 connection as the directory's admin of the services ``env`` names."""
    conn = Connection(
        Server(env["LDAP_URL"]), user=env["LDAP_BIND_DN"], password=env["LDAP_BIND_PASSWORD"], auto_bind=True
    )
    try:
        yield conn
    finally:
        conn.unbind()


@pytest.fixture
def ldap_conn(services_env: dict[str, str]) -> Iterator[Connection]:
    """A bound ldap3 connection as the directory's admin."""
    with ldap_admin(services_env) as conn:
        yield conn


@pytest.fixture
def ldap_ou(services_env: dict[str, str], ldap_conn: Connection) -> Iterator[LdapOu]:
    """A fresh OU under the base DN; removed with everything in it afterwards."""
    with fresh_ou(services_env, ldap_conn) as ou:
        yield ou


@contextmanager
def fresh_ou(services_env: dict[str, str], ldap_conn: Connection) -> Iterator[LdapOu]:
    """A fresh OU (``ldap_ou``; a test that needs two uses this for the second)."""
    dn = f"ou=t-{uuid.uuid4().hex[:12]},{services_env['LDAP_BASE_DN']}"
    ou = LdapOu(dn=dn, people_dn=f"ou=people,{dn}", groups_dn=f"ou=groups,{dn}")
    for entry in (ou.dn, ou.people_dn, ou.groups_dn):
        assert ldap_conn.add(entry, ["organizationalUnit"]), ldap_conn.result
    try:
        yield ou
    finally:
        ldap_conn.search(ou.dn, "(objectClass=*)", SUBTREE, attributes=[])
        # Deepest entries first: a DN with more RDNs lies further down the tree.
        for entry_dn in sorted((e.entry_dn for e in ldap_conn.entries), key=lambda d: -d.count("=")):
            ldap_conn.delete(entry_dn)


@pytest.fixture
def redis_url(services_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an emptied Redis database reserved for tests (a module's ``REDIS_DB`` picks its own)."""
    database = getattr(request.module, "REDIS_DB", TEST_REDIS_DB)
    url = services_env["REDIS_URL"].rsplit("/", 1)[0] + f"/{database}"
    connection = Redis.from_url(url)
    connection.flushdb()
    try:
        yield url
    finally:
        connection.flushdb()
        connection.close()


@pytest.fixture
def service_secret(keycloak_admin: KeycloakAdmin) -> str:
    """``keycloak-clever setup`` on the test's realm: the client secret of the sidecar's service
    account, which holds exactly ``SERVICE_ROLES``."""
    return ensure_service_account(keycloak_admin)


@pytest.fixture
def settings(
    services_env: dict[str, str], realm: str, ldap_ou: LdapOu, redis_url: str, service_secret: str
) -> Settings:
    """Settings pointing at this test's realm, LDAP OU and Redis database; Keycloak as the realm's
    service account (least privilege, as deployed), never the master admin."""
    return settings_for(services_env, realm, ldap_ou, redis_url, service_secret)


def settings_for(
    services_env: dict[str, str], realm: str, ldap_ou: LdapOu, redis_url: str, service_secret: str
) -> Settings:
    """The ``settings`` fixture's Settings for any realm, OU, Redis database and service account (also
    for fixtures of a wider scope: a module's one realm)."""
    env = {key: value for key, value in services_env.items() if key.startswith("KCC_")}
    env.pop("KCC_KEYCLOAK_ADMIN_USER", None)
    env.pop("KCC_KEYCLOAK_ADMIN_PASSWORD", None)
    env.update(
        KCC_KEYCLOAK_CLIENT_ID=SERVICE_CLIENT_ID,
        KCC_KEYCLOAK_CLIENT_SECRET=service_secret,
    )
    env.update(
        KCC_REALM=realm,
        KCC_LDAP_PEOPLE_DN=ldap_ou.people_dn,
        KCC_LDAP_GROUPS_DN=ldap_ou.groups_dn,
        KCC_REDIS_URL=redis_url,
        KCC_TIMEZONE="UTC",
        KCC_SECRET_KEY=TEST_SECRET_KEY,
    )
    return Settings.from_env(env)


def worker_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker or CLI process for ``settings``: this process's, less any
    ``KCC_*``, plus the services, realm and LDAP DNs of ``settings`` and the ``extra`` keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCC_")}
    if settings.secret_key:
        env["KCC_SECRET_KEY"] = settings.secret_key
    keycloak = settings.keycloak
    if keycloak.service_account:
        env.update(
            KCC_KEYCLOAK_CLIENT_ID=keycloak.client_id, KCC_KEYCLOAK_CLIENT_SECRET=keycloak.client_secret
        )
    else:
        env.update(
            KCC_KEYCLOAK_ADMIN_USER=keycloak.admin_user, KCC_KEYCLOAK_ADMIN_PASSWORD=keycloak.admin_password
        )
    env.update(
        KCC_KEYCLOAK_URL=settings.keycloak.url,
        KCC_KEYCLOAK_HEALTH_URL=settings.keycloak.health_url,
        KCC_REALM=settings.keycloak.realm,
        KCC_REDIS_URL=settings.redis_url,
        KCC_LDAP_URL=settings.ldap.url,
        KCC_LDAP_BIND_DN=settings.ldap.bind_dn,
        KCC_LDAP_BIND_PASSWORD=settings.ldap.bind_password,
        KCC_LDAP_BASE_DN=settings.ldap.base_dn,
        KCC_LDAP_PEOPLE_DN=settings.ldap.people_dn,
        KCC_LDAP_GROUPS_DN=settings.ldap.groups_dn,
        **extra,
    )
    return env
