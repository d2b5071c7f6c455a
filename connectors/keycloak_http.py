"""HTTP to Keycloak's admin REST API: relative admin paths in, JSON out, errors converted.

``KeycloakHttp.call`` is the one place where python-keycloak's and HTTP errors become
``TransientError`` (retried ``RETRIES`` times first) / ``RecordError`` / ``ConfigError``, and where
calls are counted by method (``calls``: reads and writes, for the no-op check). Listings are
paged (``pages``), or read several pages at a time when their size is known (``pages_at_once``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakConnectionError, KeycloakError
from requests import Response

from connectors.keycloak_health import Every, KeycloakHealth, default_health_url
from connectors.keycloak_words import in_words
from connectors.pooling import bounded_map
from model.base import ConfigError, RecordError, TransientError

OUTAGE_WORDS = {
    "keycloak_database": "and Keycloak's health check says its database is down",
    "ldap": "and the directory does not answer",
}
PAGE = 500


def keycloak_unreachable(url: str, exc: Exception, what: str = "") -> str:
    """Words for a Keycloak that does not answer: its URL, what failed, what to check."""
    cause = exc.__cause__ or exc
    detail = f"{what}: {type(cause).__name__}" if what else type(cause).__name__
    return f"Keycloak is not reachable at {url} ({detail}): check KCC_KEYCLOAK_URL and that Keycloak runs"


RETRIES = 3
READ_POST = "POST (read)"  # how ``calls`` counts a POST that only reads (``ask``)
BACKOFF = 0.5  # seconds, doubled each try


class KeycloakHttp:
    """The one choke point for HTTP: relative admin paths in, JSON out, errors converted.

    When Keycloak fails (unreachable, 5xx) or refuses a write without saying why ("Could not create
    user": what it answers when a system behind it fails mid-write), the systems behind it are asked
    whether they are down (``outages``, each asked at most once a second): its database through its
    readiness check at ``health_url`` (``connectors.keycloak_health``), and whatever the caller adds
    (``also_ask``: the directory its LDAP federation writes to). A system that is down makes the
    failure a ``TransientError`` naming it (retried, then it stops the run: ``plugin.sync.failures``);
    else a failure is Keycloak's, and a refusal is the record's."""

    def __init__(self, admin: KeycloakAdmin, health_url: str = "") -> None:
        self._admin = admin
        self._prefix = f"admin/realms/{admin.connection.realm_name}/"
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.health = KeycloakHealth(health_url or default_health_url(admin.connection.server_url or ""))
        self.outages: list[tuple[str, Callable[[], bool]]] = [
            ("keycloak_database", self.health.database_down)
        ]

    def also_ask(self, system: str, down: Callable[[], bool]) -> None:
        """When Keycloak fails or refuses a write without a reason, ask ``down()`` too (``system``)."""
        self.outages.append((system, Every(down)))

    def call(
        self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (), **params: Any
    ) -> Response:
        """Send one request; 2xx and the statuses in ``ok`` return, the rest raise.

        A transient failure (unreachable, 429, 5xx) is tried again ``RETRIES`` times: Keycloak
        answers 500 now and then while another realm is being deleted (its roles vanish from the
        admin's cache). A retried POST that had gone through answers 409, which callers reconcile.
        """
        return self._retried(method, path, body, ok, params, method)

    def ask(self, path: str, body: Any, *, ok: tuple[int, ...] = (), **params: Any) -> Response:
        """A POST that only reads (its question is too long for a URL), as ``call`` sends one;
        counted as ``READ_POST``, never as a write."""
        return self._retried("POST", path, body, ok, params, READ_POST)

    def _retried(
        self, method: str, path: str, body: Any, ok: tuple[int, ...], params: dict[str, Any], counted: str
    ) -> Response:
        for attempt in range(RETRIES + 1):
            try:
                return self._once(method, path, body, ok, params, counted)
            except TransientError:
                if attempt == RETRIES:
                    raise
                time.sleep(BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    def _once(
        self, method: str, path: str, body: Any, ok: tuple[int, ...], params: dict[str, Any], counted: str
    ) -> Response:
        connection = self._admin.connection
        url = self._prefix + path
        with self._lock:
            self.calls[counted] += 1
        try:
            if method == "GET":
                response = connection.raw_get(url, **params)
            elif method == "POST":
                response = connection.raw_post(url, data=json.dumps(body), **params)
            elif method == "PUT":
                response = connection.raw_put(url, data=json.dumps(body or {}), **params)
            else:
                response = connection.raw_delete(url, **params)
        except KeycloakConnectionError as exc:
            raise TransientError(
                keycloak_unreachable(connection.base_url or "", exc, f"{method} {path}")
            ) from exc
        except KeycloakError as exc:
            raise self._failed(f"Keycloak at {connection.base_url}: {method} {path}: {exc}") from exc
        status = response.status_code
        if status < 300 or status in ok:
            return response
        if status in (429,) or status >= 500:
            detail = "" if _unexplained(response.text) else f": {in_words(response.text)}"
            raise self._failed(f"Keycloak answered {status} to {method} {path}{detail}")
        if status in (401, 403):
            raise ConfigError(
                f"Keycloak refused {method} {path} ({status}): check the admin credentials", system="keycloak"
            )
        # One bad record: the refusal in words (Keycloak's JSON stays out of reports) ...
        words = f"{in_words(response.text)} (Keycloak answered {status})"
        if _unexplained(response.text) and (
            system := self._outage()
        ):  # ... unless a system behind it is down
            raise TransientError(f"{words}, {OUTAGE_WORDS[system]}", system=system)
        raise RecordError(words)

    def _failed(self, message: str) -> TransientError:
        """Keycloak failed: the fault of a system behind it when that system is down right now."""
        system = self._outage()
        if system:
            return TransientError(f"{message}, {OUTAGE_WORDS[system]}", system=system)
        return TransientError(message, system="keycloak")

    def _outage(self) -> str:
        """The first system behind Keycloak that is down now, or ""."""
        return next((system for system, down in self.outages if down()), "")

    def get(self, path: str, **params: Any) -> Any:
        """GET and decode. Keycloak streams big listings: one that fails midway (seen while another
        realm was being deleted) ends early as a 200 with broken JSON, so that is read again too."""
        for attempt in range(RETRIES + 1):
            response = self.call("GET", path, **params)
            try:
                return response.json()
            except ValueError:
                if attempt == RETRIES:
                    raise TransientError(
                        f"Keycloak sent broken JSON for GET {path} ({len(response.content)} bytes)"
                    ) from None
                time.sleep(BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    def pages(self, path: str, page: int = PAGE, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged listing, ``page`` at a time."""
        first = 0
        while True:
            items = self.get(path, first=first, max=page, **params)
            yield from items
            if len(items) < page:
                return
            first += page

    def pages_at_once(
        self,
        path: str,
        total: int,
        workers: int,
        page: int = PAGE,
        convert: Callable[[dict[str, Any]], Any] | None = None,
        **params: Any,
    ) -> Iterator[Any]:
        """Every item of a paged listing whose size is about ``total`` (a ``/count``), its pages read
        ``workers`` at a time and handed on in order, a page at a time (not all held at once); a
        last full page is followed as ``pages`` would (the count may be low).

        ``convert`` turns each item into what the caller keeps, on the thread that read its page:
        the pages waiting their turn then hold compact records, not Keycloak's representations
        (2,000 brief users are a few MB of dicts)."""
        convert = convert or (lambda item: item)
        offsets = list(range(0, max(total, 1), page))
        if len(offsets) < 2 or workers < 2:
            yield from map(convert, self.pages(path, page, **params))
            return

        def page_at(first: int) -> list[Any]:
            return [convert(item) for item in self.get(path, first=first, max=page, **params)]

        size = page
        for chunk in bounded_map(page_at, offsets, workers, window=workers):
            size = len(chunk)
            yield from chunk
        first = offsets[-1]
        while size == page:
            first += page
            chunk = page_at(first)
            size = len(chunk)
            yield from chunk

    @property
    def writes(self) -> int:
        return sum(count for method, count in self.calls.items() if method not in ("GET", READ_POST))


def _unexplained(body: str) -> bool:
    """A refusal without a reason: Keycloak's "Could not create user" (or "unknown_error"), which it
    answers when a write failed underneath it, not when a rule of the realm refused the value."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    message = str(data.get("errorMessage") or data.get("error") or "").lower()
    return message.startswith("could not") or message == "unknown_error"
