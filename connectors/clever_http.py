"""The HTTP side of ``CleverClient``: timeouts, retries with jitter, Clever's rate limit, error kinds.

This is the one choke point where ``requests`` trouble becomes the connector error taxonomy:

* 429, 500/502/503/504, timeouts, dropped connections and truncated or non-JSON bodies are retried
  with exponential backoff and full jitter (``backoff * 2**attempt``, capped at ``max_backoff``),
  ``max_retries`` times, then ``TransientError``.
* 401/403 are ``CredentialsRefused`` (a ``ConfigError``); other unexpected 4xx are ``ConfigError``.
* A 404 on one object is ``None`` when asked (Clever answers 404 for unknown *and* unshared ids).
* A 400/404 to a request that carried a cursor is ``StaleCursorError``.

Rate limit: ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix seconds) are remembered per
token; at zero remaining the next request waits for the window to reset instead of earning a 429.
[Clever sends no ``Retry-After``.] A 429 while the headers said zero remaining waits for the reset;
any other 429 (a blip, or a server without the headers) backs off like a 5xx.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from requests.auth import AuthBase

from connectors.clever_json import MAX_PAGE_BYTES, list_items
from model.base import ConfigError, SyncError, TransientError

log = logging.getLogger("connectors.clever")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024  # bytes read at a time from a list page
_RESETTING = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_UNREACHED = {exc.__name__ for exc in (requests.ConnectTimeout, requests.ConnectionError)}


def origin(url: str) -> str:
    """``https://api.clever.com`` of a URL (no path, no query: no token or secret in it)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def unreachable(url: str, detail: str) -> str:
    """Words for a Clever host that does not answer: which host, what was asked, what to check."""
    return (
        f"Clever is not reachable at {origin(url)} ({detail}): check KCC_CLEVER_OAUTH_URL and "
        "KCC_CLEVER_API_URL, and that this machine can reach it (DNS, firewall, proxy)"
    )


class StaleCursorError(SyncError):
    """Clever refused a saved event cursor (older than 30 days, or unknown): do a full sync."""


class CredentialsRefused(ConfigError):
    """401/403: the client credentials or the token are not (or no longer) accepted."""


class OAuthError(ConfigError):
    """Clever's OAuth endpoint said no (``invalid_grant`` for a replayed or expired code, ...)."""

    def __init__(self, message: str, *, error: str = "") -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    """The answer to a code exchange; ``id_token`` is empty unless Clever enabled OIDC for the app."""

    access_token: str = field(repr=False)
    id_token: str = field(default="", repr=False)
    token_type: str = "bearer"


class _Retry(Exception):
    """One attempt failed in a way worth retrying; ``wait`` overrides the backoff when set."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class _NoNetrc(AuthBase):
    """The session's default credentials: none. Without it ``requests`` looks in ``~/.netrc`` for a
    login to Clever's host on every request (a file read each time; and the host's credentials are
    not the sidecar's to send). Each request carries its own: the bearer token, or the client's."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class CleverHttp:
    """One ``requests.Session`` with a timeout on every call, retries and the rate limit."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        max_retries: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.auth = _NoNetrc()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.requests_made = 0
        self.retries = 0
        self.waited_for_rate_limit = 0.0
        self._sleep = sleep
        self._limits: dict[str, tuple[int, float]] = {}  # token -> (remaining, reset epoch)

    def get_json(
        self,
        url: str,
        *,
        what: str,
        token: str | None = None,
        auth: tuple[str, str] | None = None,
        missing_ok: bool = False,
        cursor: str | None = None,
    ) -> Any:
        """GET ``url`` and decode JSON, retrying what may pass; ``what`` names it in errors and logs."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send(url, what, token, auth, missing_ok, cursor)
                if response is None:
                    return None  # a 404 the caller allowed
                if len(response.content) > MAX_PAGE_BYTES:
                    raise ConfigError(f"{what}: the answer is larger than {MAX_PAGE_BYTES} bytes: refused")
                body = json_or_none(response.content)
                if body is None:
                    raise _Retry(f"invalid or truncated JSON ({len(response.content)} bytes)")
                return body
            except _Retry as retry:
                self._pause(attempt, retry, what, url)
        raise AssertionError("unreachable")

    def list_page(
        self, url: str, *, what: str, token: str, cursor: str | None = None
    ) -> Generator[Any, None, list[Any]]:
        """One page of a Clever list, decoded an item at a time; returns the page's ``links``.

        A page that breaks off (truncated or invalid JSON) is read again like any failed request;
        its items then come again from the first, and the caller skips those it already has.
        """
        for attempt in range(self.max_retries + 1):
            try:
                response = self._send(url, what, token, None, False, cursor, stream=True)
                assert response is not None  # a 404 is an error here
                with response:
                    try:
                        return (yield from list_items(response.iter_content(CHUNK), what))
                    except ValueError:
                        raise _Retry("invalid or truncated JSON") from None
                    except _RESETTING as exc:
                        raise _Retry(type(exc).__name__) from exc
            except _Retry as retry:
                self._pause(attempt, retry, what, url)
        raise AssertionError("unreachable")

    def _pause(self, attempt: int, retry: _Retry, what: str, url: str) -> None:
        """Back off before the next try, or give up with ``TransientError`` after the last."""
        if attempt == self.max_retries:
            tries = f"gave up after {attempt + 1} tries"
            if str(retry) in _UNREACHED:
                raise TransientError(unreachable(url, f"{what}: {retry}, {tries}")) from None
            raise TransientError(f"Clever at {origin(url)}: {what}: {retry} ({tries})") from None
        cap = min(self.max_backoff, self.backoff * 2**attempt)
        wait = retry.wait if retry.wait is not None else random.uniform(0, cap)
        log.info("clever: %s: %s; retry %d in %.2fs", what, retry, attempt + 1, wait)
        self.retries += 1
        self._sleep(wait)

    def post_form(
        self, url: str, data: dict[str, str], *, what: str, auth: tuple[str, str]
    ) -> tuple[int, Any]:
        """One POST, never retried (an OAuth code works once); returns (status, JSON or None)."""
        try:
            self.requests_made += 1
            response = self.session.post(url, data=data, auth=auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientError(unreachable(url, f"{what}: {type(exc).__name__}")) from exc
        return response.status_code, json_or_none(response.content)

    def _send(
        self,
        url: str,
        what: str,
        token: str | None,
        auth: tuple[str, str] | None,
        missing_ok: bool,
        cursor: str | None,
        *,
        stream: bool = False,
    ) -> requests.Response | None:
        """One GET: a 200 (its body read unless ``stream``), ``None`` for an allowed 404, or raise."""
        if token:
            self._respect_rate_limit(token)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            self.requests_made += 1
            response = self.session.get(url, headers=headers, auth=auth, timeout=self.timeout, stream=stream)
            if not stream:
                response.content  # noqa: B018 - read the body here, where transport errors are retried
        except _RESETTING as exc:
            raise _Retry(type(exc).__name__) from exc
        except requests.RequestException as exc:
            raise TransientError(unreachable(url, f"{what}: {type(exc).__name__}")) from exc
        if token:
            self._remember_rate_limit(token, response)
        status = response.status_code
        if status != 200:
            response.close()
        if status == 429:
            remaining, reset = self._limits.get(token or "", (1, 0.0))
            raise _Retry("HTTP 429", wait=_until(reset) if remaining <= 0 else None)
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status}")
        if status in (401, 403):
            raise CredentialsRefused(f"{what}: HTTP {status}: Clever refused the credentials")
        if status == 404 and missing_ok:
            return None
        if status in (400, 404) and cursor:
            raise StaleCursorError(f"{what}: Clever refused the cursor {cursor} (HTTP {status})")
        if status != 200:
            raise ConfigError(f"{what}: HTTP {status}")
        return response

    def _remember_rate_limit(self, token: str, response: requests.Response) -> None:
        try:
            remaining = int(response.headers["X-RateLimit-Remaining"])
            reset = float(response.headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return
        if reset < 1e9:  # seconds from now rather than a Unix time
            reset += time.time()
        self._limits[token] = (remaining, reset)

    def _respect_rate_limit(self, token: str) -> None:
        remaining, reset = self._limits.get(token, (1, 0.0))
        if remaining <= 0 and (wait := _until(reset)) > 0:
            log.info("clever: rate limit reached; waiting %.1fs for the next window", wait)
            self.waited_for_rate_limit += wait
            self._sleep(wait)
            self._limits.pop(token, None)


def _until(reset: float) -> float:
    # Clever's window is one minute; never trust a reset further out than that (clock skew).
    return min(61.0, max(0.0, reset - time.time()) + 0.05)


def json_or_none(content: bytes) -> Any:
    """The decoded body, or ``None`` when it is not (complete) JSON."""
    try:
        return json.loads(content)
    except ValueError:
        return None


def envelope_items(body: Any, path: str) -> list[Any]:
    """The ``data`` list of a Clever list answer."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise TransientError(f"GET {path}: the answer is not a Clever list")
    return items


def next_url(body: Any, own: Mapping[str, Any], api_url: str) -> str | None:
    """The absolute URL of the ``next`` link, or None on the last page.

    [Clever's documented ``next`` example drops ``limit`` and filters:] any of the client's own
    query parameters (``own``) that the link leaves out are put back. A link to another host or
    scheme than ``api_url``'s is a ``ConfigError``: the district token goes only to the API host.
    """
    links = body.get("links") if isinstance(body, dict) else None
    nexts = [x.get("uri") for x in links or [] if isinstance(x, dict) and x.get("rel") == "next"]
    uri = str(nexts[0] or "") if nexts else ""
    if not uri:
        return None
    parts = urlsplit(uri)
    api = urlsplit(api_url)
    if (parts.scheme or api.scheme, parts.netloc or api.netloc) != (api.scheme, api.netloc):
        # A next link elsewhere would take the district token there: never followed.
        raise ConfigError(f"Clever's next link leaves {api.scheme}://{api.netloc}: refused")
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query += [
        (k, v) for k, vs in own.items() if k not in present for v in (vs if isinstance(vs, list) else [vs])
    ]
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else api_url
    return f"{base}{parts.path}?{urlencode(query)}"
