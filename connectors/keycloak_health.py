"""Keycloak's readiness check, asked when Keycloak fails: is it Keycloak, or Keycloak's database?

While its database is down, Keycloak answers every admin call with a bare 500
(``{"error": "unknown_error"}``), the same as for any other fault of its own. Its readiness check
on the management port (``/health/ready``, port 9000 by default; ``KCC_KEYCLOAK_HEALTH_URL``) tells
them apart: with ``kc.sh build --health-enabled=true --metrics-enabled=true`` it carries "Keycloak
database connections async health check", DOWN from about a second after the database went away
until it is back. Asked at the moment of a failure (the check says nothing of an outage that is
over), with a short timeout, at most once per ``EVERY`` seconds; anything but a clear DOWN of
the database check (no such check, the endpoint unreachable) counts as "not the database".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import requests

EVERY = 1.0  # seconds between two questions to the health endpoint
TIMEOUT = 3.0  # seconds: the endpoint is local to Keycloak and answers at once or not at all
MANAGEMENT_PORT = 9000  # Keycloak's default management port


def default_health_url(keycloak_url: str) -> str:
    """Keycloak's readiness check on its default management port, on the host of ``keycloak_url``."""
    parts = urlsplit(keycloak_url)
    return urlunsplit((parts.scheme, f"{parts.hostname}:{MANAGEMENT_PORT}", "/health/ready", "", ""))


class Every:
    """A yes/no question about a system, asked at most once per ``every`` seconds (threads share it)."""

    def __init__(self, ask: Callable[[], bool], every: float = EVERY) -> None:
        self._ask = ask
        self._every = every
        self._lock = threading.Lock()
        self._asked = float("-inf")
        self._answer = False

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._asked >= self._every:
                self._answer = self._ask()
                self._asked = time.monotonic()
            return self._answer


class KeycloakHealth:
    """``database_down()``: whether Keycloak's readiness check says its database is down right now."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.database_down = Every(self._ask)

    def _ask(self) -> bool:
        if not self.url:
            return False
        try:
            body = requests.get(self.url, timeout=TIMEOUT).json()
        except (requests.RequestException, ValueError):
            return False
        checks = body.get("checks") if isinstance(body, dict) else None
        return any(
            isinstance(check, dict)
            and "database" in str(check.get("name", "")).lower()
            and check.get("status") == "DOWN"
            for check in checks or ()
        )
