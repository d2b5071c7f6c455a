"""The services a benchmark runs on, and the fresh realm, LDAP OU and Redis db each method gets.

Like ``tests/conftest.py``: every method runs on a realm named by a uuid and an OU of its own, both
removed afterwards (Keycloak realms cost memory). Redis db ``BENCH_REDIS_DB`` is the benchmark's
own; the sync's keys (``kcc:sync:*``) are removed before and after each method (never the whole db:
other sessions share the server).
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection, Server
from redis import Redis

from plugin.config.settings import Settings, load_env_file

ROOT = Path(__file__).resolve().parents[1]
SERVICES_ENV = Path(os.environ.get("BENCH_SERVICES_ENV", ROOT / "var" / "services.env"))
BENCH_REDIS_DB = 15  # 9, 12, 13 are flushed by test sessions
BENCH_SECRET_KEY = secrets.token_hex(32)  # the sidecar refuses a weak one (plugin.config.hardening)


@dataclass(frozen=True)
class Ou:
    """An OU with its own ``people`` and ``groups`` below it."""

    dn: str
    people_dn: str
    groups_dn: str


@dataclass(frozen=True)
class Place:
    """Where one method runs: a realm, an OU, a Redis db, and the sandbox it reads."""

    realm: str
    ou: Ou
    redis_url: str
    clever_url: str
    district_id: str
    # False: the sync writes through the admin REST API only (KCC_KEYCLOAK_BULK=false), as on a
    # Keycloak without the clever-sync extension; method (a_rest).
    bulk: bool = True

    def env(self, services: dict[str, str]) -> dict[str, str]:
        """The ``KCC_*`` environment a worker process builds its Settings from."""
        env = {key: value for key, value in services.items() if key.startswith("KCC_")}
        env.update(
            KCC_REALM=self.realm,
            KCC_LDAP_PEOPLE_DN=self.ou.people_dn,
            KCC_LDAP_GROUPS_DN=self.ou.groups_dn,
            KCC_REDIS_URL=self.redis_url,
            KCC_TIMEZONE="UTC",
            KCC_CLEVER_OAUTH_URL=self.clever_url,
            KCC_CLEVER_API_URL=self.clever_url,
            KCC_CLEVER_CLIENT_ID="sandbox-client",
            KCC_CLEVER_CLIENT_SECRET="sandbox-secret",
            KCC_CLEVER_DISTRICT_ID=self.district_id,
            KCC_SECRET_KEY=BENCH_SECRET_KEY,
        )
        if not self.bulk:
            env["KCC_KEYCLOAK_BULK"] = "false"
        return env

    def settings(self, services: dict[str, str]) -> Settings:
        return Settings.from_env(self.env(services))


class Services:
    """The running Keycloak, OpenLDAP and Redis (``var/services.env``)."""

    def __init__(self, path: Path = SERVICES_ENV) -> None:
        self.env = load_env_file(str(path))
        self.redis_url = self.env["REDIS_URL"].rsplit("/", 1)[0] + f"/{BENCH_REDIS_DB}"
        self.master = KeycloakAdmin(
            server_url=self.env["KEYCLOAK_URL"],
            username=self.env["KEYCLOAK_ADMIN_USER"],
            password=self.env["KEYCLOAK_ADMIN_PASSWORD"],
            realm_name="master",
            timeout=3600,
        )

    def admin(self, realm: str) -> KeycloakAdmin:
        """An admin client for ``realm``, signed in through master; long timeout for bulk calls."""
        return KeycloakAdmin(
            server_url=self.env["KEYCLOAK_URL"],
            username=self.env["KEYCLOAK_ADMIN_USER"],
            password=self.env["KEYCLOAK_ADMIN_PASSWORD"],
            realm_name=realm,
            user_realm_name="master",
            timeout=3600,
        )

    def ldap(self) -> Connection:
        return Connection(
            Server(self.env["LDAP_URL"]),
            user=self.env["LDAP_BIND_DN"],
            password=self.env["LDAP_BIND_PASSWORD"],
            auto_bind=True,
        )

    def keycloak_nodes(self) -> list[tuple[str, str]]:
        """Each Keycloak node's URL and health URL: node 1, and node 2 when the services run two
        (``KEYCLOAK_NODES=2 scripts/services up``: ``KEYCLOAK_URL_2``)."""
        nodes = [(self.env["KCC_KEYCLOAK_URL"], self.env.get("KCC_KEYCLOAK_HEALTH_URL", ""))]
        if self.env.get("KEYCLOAK_URL_2"):
            nodes.append((self.env["KEYCLOAK_URL_2"], self.env.get("KEYCLOAK_HEALTH_URL_2", "")))
        return nodes

    @property
    def keycloak_backend(self) -> str:
        """Keycloak's database as ``scripts/services`` started it: ``postgres`` (production mode,
        ``make bench``'s default) or ``dev-file`` (``start-dev`` on H2); recorded with every result."""
        return self.env.get("KEYCLOAK_BACKEND", "dev-file")

    def keycloak_version(self) -> str:
        info = self.master.get_server_info()
        return str(info.get("systemInfo", {}).get("version", "?"))

    @contextmanager
    def place(self, clever_url: str, district_id: str, label: str, *, bulk: bool = True) -> Iterator[Place]:
        """A fresh realm, OU and emptied Redis db for one method; all removed afterwards."""
        suffix = uuid.uuid4().hex[:10]
        realm = f"bench-{label}-{suffix}"
        dn = f"ou=bench-{label}-{suffix},{self.env['LDAP_BASE_DN']}"
        ou = Ou(dn, f"ou=people,{dn}", f"ou=groups,{dn}")
        redis = Redis.from_url(self.redis_url)
        _forget_sync_state(redis)
        self.master.create_realm({"realm": realm, "enabled": True})
        conn = self.ldap()
        try:
            for entry in (ou.dn, ou.people_dn, ou.groups_dn):
                if not conn.add(entry, ["organizationalUnit"]):
                    raise RuntimeError(f"LDAP refused {entry}: {conn.result['description']}")
            yield Place(realm, ou, self.redis_url, clever_url, district_id, bulk)
        finally:
            self.master.delete_realm(realm)
            remove_subtree(conn, ou.dn)
            conn.unbind()
            _forget_sync_state(redis)
            redis.close()


def remove_subtree(conn: Connection, dn: str) -> None:
    """Delete ``dn`` and everything below it, deepest first (paged: big OUs exceed size limits)."""
    entries = conn.extend.standard.paged_search(dn, "(objectClass=*)", SUBTREE, attributes=[], generator=True)
    dns = [e["dn"] for e in entries if e.get("type") == "searchResEntry"]
    for entry_dn in sorted(dns, key=lambda d: -d.count("=")):
        conn.delete(entry_dn)


def _forget_sync_state(redis: Redis) -> None:
    keys = list(redis.scan_iter("kcc:sync:*"))
    if keys:
        redis.delete(*keys)
