"""CleverClient: OAuth, district tokens, paging streams, rate limit, events; Clever JSON -> records.

Decisions (Clever quirks in brackets):

* Collections are generators that fetch one page at a time (``limit=10000``, Clever's maximum) and
  follow the ``next`` link; no collection is ever held whole. [Clever's documented ``next`` example
  drops ``limit`` and filters, so the client puts back any of its own query parameters the link
  leaves out.] Items come in ascending id order; an id at or below the last one seen is skipped, so
  a retried page never yields a record twice.
* A bad item becomes a ``RecordError`` (kind + Clever id) handed to ``on_bad_record`` (default:
  appended to ``client.bad_records``) and the stream goes on.
* Transport (timeouts, retries with jitter, the rate limit, error kinds): ``clever_http``. A
  district token refused with 401/403 is looked up again once, in case Clever rotated it.
* Latest event id before a full read: ``GET /v3.0/events?ending_before=<max id>&limit=1`` (a page
  *before* a cursor is the page right before it, as ``prev`` links work), then confirmed with
  ``starting_after=<that id>&limit=1`` coming back empty. If the server answers otherwise the
  client walks the feed forward to its end, which is slower but relies only on ``starting_after``.
  [Clever's docs suggest ``ending_before=last``, seen only in third-party code; not used.]
* Events from a saved cursor first fetch ``/v3.0/events/<cursor>``: a 404 there (the event left
  the 30-day window) or a refused cursor is ``StaleCursorError``, and the sync does a full read.
* ``requests_made`` counts every HTTP request, retries and token look-ups included. Logs carry
  paths and Clever ids, never tokens, secrets or names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import requests

from connectors.clever_http import (
    CleverHttp,
    CredentialsRefused,
    OAuthError,
    OAuthTokens,
    StaleCursorError,
    envelope_items,
    next_url,
)
from connectors.clever_parse import (
    DistrictToken,
    parse,
    parse_district_tokens,
    parse_event,
    parse_me,
)
from connectors.clever_roster import Roster
from connectors.clever_text import REASON, bad_text, scrubbed
from model.base import ConfigError, RecordError, TransientError
from model.records import Course, District, Event, Me, Role, School, Section, Term, User

if TYPE_CHECKING:
    from model.config import CleverSettings

log = logging.getLogger(__name__)

R = TypeVar("R")
API = "/v3.0"
# Clever asks partners to read user calls from v3.1 (non-breaking; adds a student's preferred_name
# and sensitive fields the parser never reads). ``settings.api_version``: "auto" reads /v3.1 and
# falls back to /v3.0 when Clever answers 404 or 403 (an app not allowed v3.1); "v3.0" or "v3.1"
# pins one. The events feed is read from the same version as users, so an incremental run sees
# the same user objects as a full one.
USERS_API = {"v3.0": "/v3.0", "v3.1": "/v3.1"}
MAX_ID = "f" * 24  # larger than any Clever id (24 hex digits)
RELATED: dict[type, str] = {User: "users", Section: "sections", School: "schools"}


class CleverClient:
    """Clever's OAuth and Data API v3.0 for one app, on one ``requests.Session``.

    Settings (``CleverSettings``; keyword arguments tune the transport)::

        CleverSettings(
            oauth_url="https://clever.com",       # /oauth/authorize, /oauth/tokens
            api_url="https://api.clever.com",     # /v3.0/..., /userinfo
            client_id="...", client_secret="...",  # the app's OAuth client (Basic auth)
            district_id="5a0c91b95c7cc000010d417c",  # whose district-app token to use
        )
        client = CleverClient(settings, page_size=10000, timeout=(5, 60), max_retries=6)
        for student in client.users(role=Role.STUDENT): ...

    ``district_id`` may be empty when the app is connected to exactly one district.
    """

    def __init__(
        self,
        settings: CleverSettings,
        *,
        page_size: int = 10000,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        max_retries: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        on_bad_record: Callable[[RecordError], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= 10000:
            raise ConfigError(f"page_size must be 1..10000 (Clever's maximum), got {page_size}")
        self.settings = settings
        self.page_size = page_size
        self.http = CleverHttp(
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            sleep=sleep,
        )
        self.bad_records: list[RecordError] = []
        self.text_warnings: list[str] = []  # fields left out of records (``connectors.clever_text``)
        self.on_bad_record = on_bad_record or self.bad_records.append
        self._tokens: dict[str, str] = {}  # district id -> district-app token
        self._district_id = settings.district_id
        self._users_api: str | None = USERS_API.get(settings.api_version)  # None: probe /v3.1 once

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries and token look-ups included."""
        return self.http.requests_made

    # -- OAuth: the admin's "Login with Clever" ------------------------------------------------

    def authorize_url(
        self, redirect_uri: str, state: str, district_id: str | None = None, nonce: str | None = None
    ) -> str:
        """Where to send the browser; ``district_id`` skips Clever's district picker."""
        query = {"response_type": "code", "client_id": self.settings.client_id}
        query |= {"redirect_uri": redirect_uri, "state": state}
        if district_id:
            query["district_id"] = district_id
        if nonce:
            query["nonce"] = nonce
        return f"{self.settings.oauth_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthTokens:
        """Trade a one-time code for tokens; never retried, since a code works once."""
        data = {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        url = f"{self.settings.oauth_url}/oauth/tokens"
        status, body = self.http.post_form(url, data, what="POST /oauth/tokens", auth=self._client_auth())
        if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            error = str(body.get("error", "")) if isinstance(body, dict) else ""
            if status >= 500 or status == 429:
                raise TransientError(f"POST /oauth/tokens: HTTP {status}")
            raise OAuthError(f"code exchange refused: HTTP {status} {error}", error=error)
        return OAuthTokens(
            access_token=str(body["access_token"]),
            id_token=str(body.get("id_token") or ""),
            token_type=str(body.get("token_type") or "bearer"),
        )

    def me(self, user_token: str) -> Me:
        """``/v3.0/me`` with a user token: the user id, district id and token type."""
        return parse_me(self._get_json(f"{API}/me", token=user_token))

    # -- district-app tokens ---------------------------------------------------------------------

    def district_tokens(self, district_id: str = "") -> list[DistrictToken]:
        """The app's district-app tokens (``GET /oauth/tokens?owner_type=district``)."""
        query = {"owner_type": "district"} | ({"district": district_id} if district_id else {})
        url = f"{self.settings.oauth_url}/oauth/tokens?{urlencode(query)}"
        body = self.http.get_json(url, auth=self._client_auth(), what="GET /oauth/tokens")
        try:
            return parse_district_tokens(body)
        except ValueError as exc:
            raise TransientError(f"GET /oauth/tokens: unexpected answer: {exc}") from exc

    def district_id(self) -> str:
        """The configured district, or the only district the app is connected to."""
        if not self._district_id:
            districts = {t.district for t in self.district_tokens()}
            if len(districts) != 1:
                raise ConfigError(
                    f"set the Clever district id: the app is connected to {len(districts)} districts"
                )
            self._district_id = districts.pop()
        return self._district_id

    def token_for(self, district_id: str) -> str:
        """The district-app token of ``district_id`` (looked up once, then cached)."""
        if district_id not in self._tokens:
            found = {t.access_token for t in self.district_tokens(district_id) if t.district == district_id}
            if len(found) != 1:
                what = "no" if not found else f"{len(found)} different"
                raise ConfigError(f"Clever has {what} district-app tokens for district {district_id}")
            self._tokens[district_id] = found.pop()
            log.info("clever: district-app token found for district %s", district_id)
        return self._tokens[district_id]

    # -- streams -------------------------------------------------------------------------------

    def districts(self) -> Iterator[District]:
        return self.stream("districts", District)

    def schools(self) -> Iterator[School]:
        return self.stream("schools", School)

    def users(self, role: Role | str | None = None) -> Iterator[User]:
        return self.stream("users", User, params={"role": str(role)} if role else None)

    def sections(self) -> Iterator[Section]:
        return self.stream("sections", Section)

    def terms(self) -> Iterator[Term]:
        return self.stream("terms", Term)

    def courses(self) -> Iterator[Course]:
        return self.stream("courses", Course)

    def user(self, clever_id: str, *, token: str | None = None) -> User | None:
        """One user, or ``None`` if Clever does not know or share it; ``token`` may be a user token."""
        return self.one("users", clever_id, User, token=token)

    def district(self, clever_id: str, *, token: str | None = None) -> District | None:
        """One district, or ``None`` if Clever does not know or share it."""
        return self.one("districts", clever_id, District, token=token)

    def one(self, kind: str, clever_id: str, cls: type[R], *, token: str | None = None) -> R | None:
        """``/v3.0/<kind>/<id>`` as a record; ``None`` on 404; a bad record raises RecordError.

        Users are read from /v3.1 where the app may (``USERS_API``), else /v3.0."""
        api = API if kind != "users" else self._users_api or USERS_API["v3.1"]
        try:
            body = self._get_json(f"{api}/{kind}/{clever_id}", token=token, missing_ok=True)
        except CredentialsRefused:
            if api == API or self._users_api:
                raise
            body = None
        if body is None and api != API and not self._users_api:
            body = self._get_json(f"{API}/{kind}/{clever_id}", token=token, missing_ok=True)
        if body is None:
            return None
        record = parse(kind, body.get("data") if isinstance(body, dict) else None)
        assert isinstance(record, cls)
        return record

    def stream(
        self,
        kind: str,
        cls: type[R],
        *,
        params: Mapping[str, str] | None = None,
        district_id: str | None = None,
    ) -> Iterator[R]:
        """Every ``/v3.0/<kind>`` item as a record, page by page; bad items go to ``on_bad_record``."""
        return self._records(kind, cls, self._stream_items(kind, dict(params or {}), district_id))

    def related(
        self, kind: str, clever_id: str, relation: str, cls: type[R], *, district_id: str | None = None
    ) -> Iterator[R]:
        """``/<kind>/<id>/<relation>`` as records (a person's sections, contacts or students, a
        section's people, a school's sections): what an incremental run reads besides the events."""
        target = RELATED[cls]
        api = self.users_api(district_id) if target == "users" else API
        items = self._items(f"{api}/{kind}/{clever_id}/{relation}", {}, district_id, target)
        return self._records(target, cls, items)

    def _records(self, kind: str, cls: type[R], items: Iterator[Any]) -> Iterator[R]:
        for item in items:
            try:
                if bad := bad_text(item):
                    item = self._bad_text(kind, item, bad)
                record = parse(kind, item)
            except RecordError as exc:
                log.warning("clever: bad %s record %s: %s", kind, exc.clever_id or "(no id)", exc)
                self.on_bad_record(exc)
                continue
            assert isinstance(record, cls)
            yield record

    def _bad_text(self, kind: str, item: Any, fields: list[str]) -> Any:
        """A person with text that is not text is skipped (named); another record loses the field."""
        clever_id = str(item.get("id") or "") if isinstance(item, dict) else ""
        if kind == "users" or "id" in fields:
            raise RecordError(
                f"{', '.join(fields)} {REASON}: skipped, nothing is written for them",
                kind=kind,
                clever_id="" if "id" in fields else clever_id,
            )
        self.text_warnings.append(f"{kind} {clever_id}: {', '.join(fields)} {REASON}: left out")
        return scrubbed(item)

    def _stream_items(self, kind: str, params: dict[str, str], district_id: str | None) -> Iterator[Any]:
        """The raw items of ``kind``. Users: /v3.1 first unless known or pinned; refused before
        its first item (404, 403, any ConfigError), the same list is read from /v3.0 instead."""
        if kind != "users" or self._users_api is not None:
            api = API if kind != "users" else self._users_api or API
            yield from self._items(f"{api}/{kind}", params, district_id, kind)
            return
        items = self._items(f"{USERS_API['v3.1']}/{kind}", params, district_id, kind)
        try:
            first = next(items, None)
        except (CredentialsRefused, ConfigError) as exc:
            log.info("clever: /v3.1 refused (%s): user calls read /v3.0", exc)
            self._users_api = API
            yield from self._items(f"{API}/{kind}", params, district_id, kind)
            return
        self._users_api = USERS_API["v3.1"]
        if first is not None:
            yield first
            yield from items

    def users_api(self, district_id: str | None = None) -> str:
        """``/v3.1`` when this app may read it (asked once: a 404 or 403 there means /v3.0)."""
        if self._users_api is None:
            district = district_id or self.district_id()
            url = f"{self.settings.api_url}{USERS_API['v3.1']}/users?limit=1"
            try:
                found = self._get(url, district, what="GET /v3.1/users (probe)", missing_ok=True)
            except CredentialsRefused:
                found = None
            self._users_api = USERS_API["v3.1"] if found is not None else API
            log.info("clever: user calls read %s", self._users_api)
        return self._users_api

    # -- events --------------------------------------------------------------------------------

    def events(
        self,
        starting_after: str | None = None,
        record_types: tuple[str, ...] | list[str] = (),
        *,
        district_id: str | None = None,
    ) -> Iterator[Event]:
        """Events after ``starting_after`` (oldest first); StaleCursorError if the cursor is gone.

        The cursor's own event is fetched first: once it has left Clever's 30-day window (404),
        events may have been lost with it, and the caller must do a full sync instead.
        """
        params: dict[str, str | list[str]] = {"record_type": list(record_types)} if record_types else {}
        district = district_id or self.district_id()
        api = self.users_api(district)  # the user objects inside are those of the user calls
        if starting_after:
            url = f"{self.settings.api_url}{api}/events/{starting_after}"
            what = f"GET {api}/events/{starting_after}"
            if self._get(url, district, what=what, missing_ok=True, cursor=starting_after) is None:
                raise StaleCursorError(f"event {starting_after} is no longer in Clever's events feed")
            params["starting_after"] = starting_after
        items = self._items(f"{api}/events", params, district, "events", cursor=starting_after)
        for item in items:
            try:
                yield parse_event(item)
            except RecordError as exc:
                log.warning("clever: bad event %s: %s", exc.clever_id or "(no id)", exc)
                self.on_bad_record(exc)

    def latest_event_id(self, district_id: str | None = None) -> str | None:
        """The newest event's id now (``None`` for an empty feed); read it *before* a full sync."""
        district = district_id or self.district_id()
        try:
            newest = self._event_ids({"ending_before": MAX_ID}, district)
            if not newest:
                return None  # an empty feed (a server ignoring ending_before would give the oldest)
            if not self._event_ids({"starting_after": newest[-1]}, district):
                return newest[-1]
        except StaleCursorError:  # a server that will not take the sentinel cursor
            newest = []
        log.info("clever: ending_before did not give the newest event; walking the feed")
        latest = newest[-1] if newest else None
        params = {"starting_after": latest} if latest else {}
        for item in self._items(f"{API}/events", params, district, "events", cursor=latest):
            if isinstance(item, dict) and item.get("id"):
                latest = str(item["id"])
        return latest

    def _event_ids(self, params: dict[str, str], district_id: str) -> list[str]:
        """The ids of one ``limit=1`` events page (the cursor in ``params`` may be refused)."""
        url = f"{self.settings.api_url}{API}/events?{urlencode(params | {'limit': '1'})}"
        body = self._get(url, district_id, what=f"GET {API}/events", cursor="(probe)")
        items = (i.get("data") for i in envelope_items(body, f"{API}/events") if isinstance(i, dict))
        return [str(d["id"]) for d in items if isinstance(d, dict) and d.get("id")]

    # -- transport -----------------------------------------------------------------------------

    def _items(
        self,
        path: str,
        params: dict[str, Any],
        district_id: str | None,
        kind: str,
        *,
        cursor: str | None = None,
    ) -> Iterator[Any]:
        """The bare objects of a paged collection, following ``next`` links."""
        district = district_id or self.district_id()
        own = params | {"limit": str(self.page_size)}
        url: str | None = f"{self.settings.api_url}{path}?{urlencode(own, doseq=True)}"
        last_id = cursor or ""
        pages = 0
        while url:
            # Memory: a page is decoded an item at a time (``clever_json``) and each item is let go
            # once the caller has parsed it; a page of 10,000 decoded users would be about 50 MB.
            page = self._page(url, district, what=f"GET {path}", cursor=cursor)
            pages += 1
            while True:
                try:
                    data = next(page)
                except StopIteration as done:
                    links = done.value
                    break
                data = data.get("data") if isinstance(data, dict) else None
                item_id = str(data.get("id") or "") if isinstance(data, dict) else ""
                if item_id and item_id <= last_id:
                    continue  # ascending order: already yielded (a re-read or overlapping page)
                last_id = item_id or last_id
                yield data
                del data
            following = next_url({"links": links}, own, self.settings.api_url)
            if following == url:
                raise TransientError(f"GET {path}: the next link points at the same page")
            url, cursor = following, None
        log.info("clever: %s read in %d page(s)", kind, pages)

    def _get_json(self, path: str, *, token: str | None = None, missing_ok: bool = False) -> Any:
        url = f"{self.settings.api_url}{path}"
        if token:
            return self.http.get_json(url, what=f"GET {path}", token=token, missing_ok=missing_ok)
        return self._get(url, self.district_id(), what=f"GET {path}", missing_ok=missing_ok)

    def _get(
        self, url: str, district: str, *, what: str, missing_ok: bool = False, cursor: str | None = None
    ) -> Any:
        """GET with the district's token; a refused token is looked up once more (Clever rotates them)."""
        for retried in (False, True):
            token = self.token_for(district)
            try:
                return self.http.get_json(url, what=what, token=token, missing_ok=missing_ok, cursor=cursor)
            except CredentialsRefused:
                if retried or not self._forget_token(district):
                    raise
        raise AssertionError("unreachable")

    def _page(
        self, url: str, district: str, *, what: str, cursor: str | None
    ) -> Generator[Any, None, list[Any]]:
        """One page of a list, item by item, with the district's token (looked up again if refused)."""
        for retried in (False, True):
            token = self.token_for(district)
            try:
                return (yield from self.http.list_page(url, what=what, token=token, cursor=cursor))
            except CredentialsRefused:  # always before the page's first item
                if retried or not self._forget_token(district):
                    raise
        raise AssertionError("unreachable")

    def _forget_token(self, district: str) -> bool:
        """After a refusal: drop the cached token so that it is looked up again (False: none cached)."""
        if self._tokens.pop(district, None) is None:
            return False
        log.info("clever: token of district %s refused; looking it up again", district)
        return True

    def _client_auth(self) -> tuple[str, str]:
        if not self.settings.client_id or not self.settings.client_secret:
            raise ConfigError("the Clever client id and secret are not set")
        return (self.settings.client_id, self.settings.client_secret)

    # -- the roster ----------------------------------------------------------------------------

    def roster(self, district_id: str | None = None, school_ids: tuple[str, ...] | None = None) -> Roster:
        """The district's roster to stream, with the latest event id taken first."""
        district = district_id or self.district_id()
        return Roster(self, district, frozenset(school_ids or ()), self.latest_event_id(district))


__all__ = ["CleverClient", "OAuthError", "OAuthTokens", "Roster", "StaleCursorError"]
