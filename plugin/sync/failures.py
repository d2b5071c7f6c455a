"""What a run that failed says: which part failed, in words, and what the admin should check.

A run stops when a part it needs stops answering (after the retries): Clever, Keycloak, Keycloak's
database, the LDAP directory, or Redis. Its report's error then starts with that part's name
(``NAMES``), says what happened, and what to check (``CHECKS``); ``errors_by_system`` counts it
for the metrics (``kcc_sync_errors_total{system}``). The part is found, in order:

1. a Redis error anywhere in the exception's chain: Redis;
2. the apply stage stopped (``plugin.sync.apply.ApplyError``): when our own LDAP group writes
   failed, LDAP (Keycloak's writes fail with it when its LDAP federation reads the same directory);
3. the system the connector named (``SyncError.system``: Keycloak's HTTP choke point names
   ``keycloak_database`` when Keycloak's readiness check says its database is down,
   ``connectors.keycloak_health``), else the connector that raised it (``connectors.clever*``,
   ``connectors.keycloak*``, ``connectors.ldap``);
4. for Keycloak, asked again now: its database when its readiness check says it is down; LDAP
   when the directory takes no bind (a federated realm's Keycloak answers 500 then).

Anything else is a fault of the sync itself ("the sync"): the worker's or the CLI's log has the
traceback. Exception class names stay out of the words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from connectors.keycloak_health import KeycloakHealth, default_health_url
from connectors.ldap import LdapDirectory
from model.base import SyncError
from plugin.config.settings import Settings
from plugin.sync.apply import ApplyError

NAMES = {
    "clever": "Clever",
    "keycloak": "Keycloak",
    "keycloak_database": "Keycloak's database",
    "ldap": "LDAP",
    "redis": "Redis",
    "sync": "the sync",
}
CHECKS = {
    "clever": "Check Clever's status (status.clever.com), the app's credentials and that the district "
    "still shares its data with the app; nothing was disabled or removed on a partial read",
    "keycloak": "Check that Keycloak runs and answers at {keycloak_url} (its log says why it failed)",
    "keycloak_database": "Check Keycloak's database (PostgreSQL): that it runs and that Keycloak reaches "
    "it (Keycloak's health check at {health_url} said it was down)",
    "ldap": "Check that the directory at {ldap_url} runs and answers the sidecar and Keycloak (Keycloak's "
    "LDAP federation fails with it)",
    "redis": "Check that Redis runs and answers at the address in KCC_REDIS_URL",
    "sync": "This is a fault of the sync itself: the worker's (or the CLI's) log has the details",
}
_MODULES = (("connectors.clever", "clever"), ("connectors.keycloak", "keycloak"), ("connectors.ldap", "ldap"))


@dataclass(frozen=True, slots=True)
class Probes:
    """How the systems stand now, asked only when a run failed."""

    keycloak_url: str
    health_url: str
    ldap_url: str
    keycloak_database_down: Callable[[], bool]
    ldap_reachable: Callable[[], bool]


def probes_for(settings: Settings) -> Probes:
    """The probes of the systems ``settings`` name."""
    health_url = settings.keycloak.health_url or default_health_url(settings.keycloak.url)
    return Probes(
        keycloak_url=settings.keycloak.url,
        health_url=health_url,
        ldap_url=settings.ldap.url,
        keycloak_database_down=KeycloakHealth(health_url).database_down,
        ldap_reachable=LdapDirectory(settings.ldap).reachable,
    )


def failure_line(exc: BaseException, probes: Probes) -> str:
    """The report's error for a run stopped by ``exc``: "<part>: <what happened>. <what to check>"."""
    system = system_of(exc)
    if system == "keycloak" and probes.keycloak_database_down():
        system = "keycloak_database"
    elif system == "keycloak" and not probes.ldap_reachable():
        system = "ldap"
    check = CHECKS[system].format(
        keycloak_url=probes.keycloak_url, health_url=probes.health_url, ldap_url=probes.ldap_url
    )
    return f"{NAMES[system]}: {what_happened(exc, system)}. {check}."


def system_of(exc: BaseException) -> str:
    """The part that failed, by the exception alone (steps 1 to 3 above)."""
    if any(isinstance(link, RedisError) for link in _chain(exc)):
        return "redis"
    if isinstance(exc, ApplyError):
        return "ldap" if exc.ldap is not None else system_of(exc.keycloak) if exc.keycloak else "sync"
    if isinstance(exc, SyncError) and exc.system:
        return exc.system
    return _raised_in(exc)


def what_happened(exc: BaseException, system: str) -> str:
    """The failure in words, without exception class names."""
    if isinstance(exc, ApplyError):
        if exc.ldap is not None and exc.keycloak is not None:
            return (
                f"the directory stopped our group writes ({exc.ldap}), and Keycloak's writes ({exc.keycloak})"
            )
        if exc.ldap is not None:
            return f"the directory stopped our group writes ({exc.ldap}); Keycloak's writes finished"
        return f"{exc.keycloak}; the sync's own LDAP group writes had finished"
    words = str(exc).strip() or type(exc).__name__
    if system == "ldap" and _raised_in(exc) == "keycloak":
        return f"{words} (the directory does not answer either)"
    return words


def errors_by_system(errors: list[str]) -> dict[str, int]:
    """Errors counted by the part each names first (``keycloak: ...``, ``Keycloak's database: ...``)."""
    counts = dict.fromkeys(("clever", "keycloak", "keycloak_database", "ldap", "redis"), 0)
    named = {name.lower(): system for system, name in NAMES.items()}
    for error in errors:
        system = named.get(error.split(":", 1)[0].strip().lower(), "")
        if system in counts:
            counts[system] += 1
    return counts


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        for part in (getattr(link, "keycloak", None), getattr(link, "ldap", None)):
            if isinstance(part, BaseException):
                yield from _chain(part)
        link = link.__cause__ or link.__context__


def _raised_in(exc: BaseException) -> str:
    """The part whose connector raised ``exc`` (the deepest frame of ours in its traceback)."""
    found = "sync"
    traceback: Any = exc.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        found = next((system for prefix, system in _MODULES if module.startswith(prefix)), found)
        traceback = traceback.tb_next
    return found
