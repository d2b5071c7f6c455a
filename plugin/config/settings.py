"""The one Settings object: the only module that reads the environment.

Every key has the prefix ``KCC_`` (keycloak-clever). ``Settings.from_env()`` reads them all at once
and reports every missing or invalid key together in one ``ConfigError``, so an admin fixes a
configuration in one pass instead of one restart per typo.

``var/services.env`` (written by ``scripts/services``) carries the addresses of the local services
under both their plain names (``KEYCLOAK_URL``, for a shell and curl) and the ``KCC_`` names read here.

Example::

    KCC_KEYCLOAK_URL=http://127.0.0.1:18080
    KCC_KEYCLOAK_CLIENT_ID=keycloak-clever        # the service account ``keycloak-clever setup`` made
    KCC_KEYCLOAK_CLIENT_SECRET=...
    KCC_REALM=school
    KCC_REDIS_URL=redis://kcc:...@127.0.0.1:16379/0
    KCC_LDAP_URL=ldap://127.0.0.1:13389
    KCC_LDAP_BIND_DN=cn=admin,dc=example,dc=org
    KCC_LDAP_BIND_PASSWORD=...
    KCC_LDAP_BASE_DN=dc=example,dc=org
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlparse

from model.base import ConfigError
from model.config import CleverSettings, KeycloakSettings, LdapSettings

PREFIX = "KCC_"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """The seed article's options plus the safety brake and the weekly window's time zone."""

    match_users_by_name: bool = True
    force_unique_class_names: bool = False
    sync_parent_data: bool = False
    # A student's preferred name (Clever v3.1) as the first name shown; the legal one is kept in
    # clever_legal_first_name. Off: the legal first name is shown.
    use_preferred_names: bool = True
    brake_ratio: float = 0.10
    brake_update_ratio: float = 0.75  # rewrites of names or identifiers (``plugin.sync.brake``)
    timezone: str = "UTC"
    lease_s: int = 30  # a running sync renews its lock every third of this (``plugin.runs.state``)
    # Clever role -> LDAP base DNs or Keycloak group paths its accounts live in (``KCC_MATCH_SCOPES``,
    # ``mappers.names.Scope``); empty: no place is told apart, realm roles and the people DN still are.
    match_scopes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Aliases of identity providers whose names the district runs (its own Google Workspace or Entra
    # ID): accounts whose names they rewrite at every login may be matched by name
    # (``KCC_ADMIN_RUN_NAME_PROVIDERS=google,entra``; ``mappers.eligibility``). Default: none.
    admin_run_name_providers: tuple[str, ...] = ()
    # Continuous updates (``plugin.runs.continuous``): an incremental run from Clever's events every
    # ``continuous_minutes`` (at least 1) besides the weekly window. Off: the article's rhythm alone.
    continuous: bool = False
    continuous_minutes: int = 2
    # Retention (``plugin.sync.retention``): days after which a departed person's account the sync
    # created is deleted (one it linked is unlinked); 0 = off, departed accounts stay disabled.
    retention_days: int = 0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the sidecar, the worker, the tests and the benchmarks need to know."""

    keycloak: KeycloakSettings
    redis_url: str = field(repr=False)  # may hold the Redis password
    ldap: LdapSettings
    clever: CleverSettings = field(default_factory=CleverSettings)
    options: SyncOptions = SyncOptions()
    public_url: str = "http://127.0.0.1:18000"
    secret_key: str = field(default="", repr=False)
    # Clients besides the sidecar's own whose tokens the admin API accepts (``plugin.admin.auth``).
    api_clients: tuple[str, ...] = ()
    # Where ``keycloak-clever`` (the command line) keeps its log, tracebacks included; "" = none.
    log_file: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build Settings from ``KCC_*`` keys; raise one ConfigError listing every problem."""
        environ = os.environ if environ is None else environ
        reader = _Reader(environ)
        base_dn = reader.required("LDAP_BASE_DN")
        settings = cls(
            keycloak=_keycloak(reader),
            redis_url=reader.url("REDIS_URL", schemes=("redis", "rediss", "unix")),
            ldap=LdapSettings(
                url=reader.url("LDAP_URL", schemes=("ldap", "ldaps")),
                bind_dn=reader.required("LDAP_BIND_DN"),
                bind_password=reader.required("LDAP_BIND_PASSWORD"),
                base_dn=base_dn,
                people_dn=reader.optional("LDAP_PEOPLE_DN", f"ou=people,{base_dn}"),
                groups_dn=reader.optional("LDAP_GROUPS_DN", f"ou=groups,{base_dn}"),
            ),
            clever=CleverSettings(
                oauth_url=reader.url("CLEVER_OAUTH_URL", default="https://clever.com"),
                api_url=reader.url("CLEVER_API_URL", default="https://api.clever.com"),
                client_id=reader.optional("CLEVER_CLIENT_ID", ""),
                client_secret=reader.optional("CLEVER_CLIENT_SECRET", ""),
                district_id=reader.optional("CLEVER_DISTRICT_ID", ""),
                create_unknown_users=reader.flag("CLEVER_CREATE_UNKNOWN_USERS", False),
                api_version=reader.parsed("CLEVER_API_VERSION", "auto", _api_version),
                users_edit_names=reader.flag("USERS_EDIT_NAMES", False),
                allow_self_linking=reader.flag("ALLOW_SELF_LINKING", False),
            ),
            options=SyncOptions(
                match_users_by_name=reader.flag("MATCH_USERS_BY_NAME", True),
                force_unique_class_names=reader.flag("FORCE_UNIQUE_CLASS_NAMES", False),
                sync_parent_data=reader.flag("SYNC_PARENT_DATA", False),
                use_preferred_names=reader.flag("USE_PREFERRED_NAMES", True),
                brake_ratio=reader.parsed("BRAKE_RATIO", 0.10, _ratio),
                brake_update_ratio=reader.parsed("BRAKE_UPDATE_RATIO", 0.75, _ratio),
                timezone=reader.parsed("TIMEZONE", "UTC", _timezone),
                lease_s=reader.parsed("LOCK_LEASE_SECONDS", 30, _seconds),
                match_scopes=reader.parsed("MATCH_SCOPES", (), _scopes),
                admin_run_name_providers=_aliases(reader.optional("ADMIN_RUN_NAME_PROVIDERS", "")),
                continuous=reader.flag("CONTINUOUS", False),
                continuous_minutes=reader.parsed("CONTINUOUS_MINUTES", 2, continuous_minutes),
                retention_days=reader.parsed("RETENTION_DAYS", 0, retention_days),
            ),
            public_url=reader.url("PUBLIC_URL", default="http://127.0.0.1:18000"),
            secret_key=reader.optional("SECRET_KEY", ""),
            api_clients=tuple(c.strip() for c in reader.optional("API_CLIENTS", "").split(",") if c.strip()),
            log_file=reader.optional("LOG_FILE", _default_log_file(environ)),
        )
        reader.raise_problems()
        return settings

    def with_options(self, **changes: Any) -> Settings:
        """A copy with some sync options changed (the admin page and tests use this)."""
        return replace(self, options=replace(self.options, **changes))


def keycloak_from_env(environ: Mapping[str, str] | None = None) -> KeycloakSettings:
    """Only the Keycloak part (``keycloak-clever setup`` needs no Redis or LDAP)."""
    reader = _Reader(os.environ if environ is None else environ)
    found = _keycloak(reader)
    reader.raise_problems()
    return found


def _keycloak(reader: _Reader) -> KeycloakSettings:
    """The service account's client credentials when given, else an admin user (both required)."""
    client_id = reader.optional("KEYCLOAK_CLIENT_ID", "")
    has_client = bool(client_id or reader.optional("KEYCLOAK_CLIENT_SECRET", ""))
    return KeycloakSettings(
        url=reader.url("KEYCLOAK_URL"),
        admin_user=reader.optional("KEYCLOAK_ADMIN_USER", "")
        if has_client
        else reader.required("KEYCLOAK_ADMIN_USER"),
        admin_password=reader.optional("KEYCLOAK_ADMIN_PASSWORD", "")
        if has_client
        else reader.required("KEYCLOAK_ADMIN_PASSWORD"),
        admin_realm=reader.optional("KEYCLOAK_ADMIN_REALM", "master"),
        realm=reader.optional("REALM", "school"),
        client_id=reader.required("KEYCLOAK_CLIENT_ID") if has_client else "",
        client_secret=reader.required("KEYCLOAK_CLIENT_SECRET") if has_client else "",
        bulk=reader.flag("KEYCLOAK_BULK", True),
        health_url=reader.url("KEYCLOAK_HEALTH_URL", default=""),
    )


class _Reader:
    """Collects problems instead of stopping at the first one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._problems: list[str] = []

    def _get(self, key: str) -> str | None:
        value = self._environ.get(PREFIX + key)
        return None if value is None or value.strip() == "" else value.strip()

    def required(self, key: str) -> str:
        value = self._get(key)
        if value is None:
            self._problems.append(f"{PREFIX}{key} is missing")
            return ""
        return value

    def optional(self, key: str, default: str) -> str:
        value = self._get(key)
        return default if value is None else value

    def url(
        self, key: str, *, default: str | None = None, schemes: tuple[str, ...] = ("http", "https")
    ) -> str:
        value = self._get(key)
        if value is None:
            if default is not None:
                return default
            self._problems.append(f"{PREFIX}{key} is missing")
            return ""
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not (parsed.netloc or parsed.scheme == "unix"):
            self._problems.append(f"{PREFIX}{key} must be a {'/'.join(schemes)} URL, got {value!r}")
        return value.rstrip("/")

    def flag(self, key: str, default: bool) -> bool:
        return self.parsed(key, default, _flag)

    def parsed(self, key: str, default: T, parse: Callable[[str], T]) -> T:
        value = self._get(key)
        if value is None:
            return default
        try:
            return parse(value)
        except ValueError as exc:
            self._problems.append(f"{PREFIX}{key}: {exc}")
            return default

    def raise_problems(self) -> None:
        if self._problems:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(self._problems))


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _api_version(value: str) -> str:
    if value.lower() not in ("auto", "v3.0", "v3.1"):
        raise ValueError("expected auto, v3.0 or v3.1")
    return value.lower()


def _ratio(value: str) -> float:
    ratio = float(value)
    if not 0 < ratio <= 1:
        raise ValueError(f"expected a fraction between 0 and 1, got {value!r}")
    return ratio


def _seconds(value: str) -> int:
    seconds = int(value)
    if not 2 <= seconds <= 3600:
        raise ValueError("must be 2 to 3600 seconds")
    return seconds


def continuous_minutes(value: str | int) -> int:
    """Minutes between two continuous updates: a whole number, 1 to 1440 (a day)."""
    minutes = int(value)
    if not 1 <= minutes <= 1440:
        raise ValueError("must be 1 to 1440 minutes")
    return minutes


def retention_days(value: str | int) -> int:
    """Days a departed person's account is kept: 0 (off: kept) or 1 to 3650."""
    days = int(value)
    if not 0 <= days <= 3650:
        raise ValueError("must be 0 (off) or 1 to 3650 days")
    return days


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _default_log_file(environ: Mapping[str, str]) -> str:
    """``$XDG_STATE_HOME/keycloak-clever/keycloak-clever.log`` (``~/.local/state`` by default)."""
    state = environ.get("XDG_STATE_HOME") or os.path.join(environ.get("HOME") or "~", ".local", "state")
    return os.path.join(os.path.expanduser(state), "keycloak-clever", "keycloak-clever.log")


def load_env_file(path: str) -> dict[str, str]:
    """Parse a ``KEY=VALUE`` file such as ``var/services.env`` (no shell expansion)."""
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


SCOPE_ROLES = ("student", "teacher", "staff", "district_admin", "contact")


def _scopes(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``student=ou=students,dc=x;staff=/Staff|ou=staff,dc=x``: role=base[|base] entries, ``;`` apart."""
    scopes: list[tuple[str, tuple[str, ...]]] = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        role, _, bases = entry.partition("=")
        role = role.strip().lower()
        listed = tuple(base.strip() for base in bases.split("|") if base.strip())
        if role not in SCOPE_ROLES or not listed:
            raise ValueError(f"{entry!r} is not role=base (roles: {', '.join(SCOPE_ROLES)})")
        scopes.append((role, listed))
    return tuple(scopes)


def _aliases(text: str) -> tuple[str, ...]:
    """``google, entra``: identity-provider aliases, comma-separated, each once, in order."""
    return tuple(dict.fromkeys(alias.strip() for alias in text.split(",") if alias.strip()))
