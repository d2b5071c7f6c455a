"""The error taxonomy every connector converts its library's exceptions into, and the Protocols of a
roster's source (what the sync reads Clever through).

Three kinds, after authentik's outgoing-sync exceptions:

* ``TransientError``: network trouble, 5xx, 429, timeouts. Retry with backoff; if retries run out
  the run aborts and removes nothing.
* ``RecordError``: one record cannot be synced (no name, dangling reference, a name the target
  rejects). It goes into the report and the run goes on.
* ``ConfigError``: the configuration or the credentials are wrong. Abort the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from model.records import Event, Role, School, Section, User


class SyncError(Exception):
    """Base of the three kinds below. ``system`` names the part that failed when the connector that
    raised it knows better than its own name (``keycloak_database``: Keycloak answered, its database
    did not); "" leaves it to ``plugin.sync.failures`` (the connector that raised it)."""

    system: str = ""

    def __init__(self, *args: object, system: str = "") -> None:
        super().__init__(*args)
        if system:
            self.system = system


class TransientError(SyncError):
    """A failure that may pass: retry with backoff."""


class RecordError(SyncError):
    """One bad record: report it, skip it, go on."""

    def __init__(
        self, message: str, *, kind: str = "", clever_id: str = "", person: str = "", system: str = ""
    ) -> None:
        super().__init__(message, system=system)
        self.kind = kind  # the record's kind: ``users``, ``sections``, a report kind ...
        self.clever_id = clever_id
        self.person = person  # the report kind of the person it is about (``students`` ...), if known


class ConfigError(SyncError):
    """Wrong configuration or credentials: abort."""


# --- What the sync reads from Clever, as Protocols (connectors/clever.py, plugin/events.py) ---------


class RosterView(Protocol):
    """The streams the map stage reads (``plugin.desired``): a whole district
    (``connectors.clever.Roster``) or only the people Clever's events touched (``plugin.events``)."""

    def schools(self) -> Iterable[School]: ...
    def users(self, role: Role | str | None = None) -> Iterable[User]: ...
    def sections(self) -> Iterable[Section]: ...


class Roster(RosterView, Protocol):
    """One district's data as lazy streams, and the latest event id read before any of them."""

    event_cursor: str | None


class RosterSource(Protocol):
    """Where rosters and their changes come from (``connectors.clever.CleverClient`` is one)."""

    def roster(self, district_id: str | None = None) -> Roster: ...
    def events(self, starting_after: str | None = None) -> Iterable[Event]: ...


R = TypeVar("R")


class RecordStreams(Protocol):
    """Records as streams: what a ``connectors.clever_roster.Roster`` reads through
    (``connectors.clever.CleverClient`` is one)."""

    bad_records: list[RecordError]
    text_warnings: list[str]

    def stream(
        self,
        kind: str,
        cls: type[R],
        *,
        params: Mapping[str, str] | None = None,
        district_id: str | None = None,
    ) -> Iterator[R]: ...


class RecordReader(RecordStreams, Protocol):
    """Records a few at a time too (an incremental run's reads: ``plugin.sync.snapshot_events``)."""

    def related(
        self, kind: str, clever_id: str, relation: str, cls: type[R], *, district_id: str | None = None
    ) -> Iterable[R]: ...
    def one(self, kind: str, clever_id: str, cls: type[R]) -> R | None: ...
