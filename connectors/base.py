"""The error taxonomy every connector converts its library's exceptions into.

Three kinds, after authentik's outgoing-sync exceptions:

* ``TransientError``: network trouble, 5xx, 429, timeouts. Retry with backoff; if retries run out
  the run aborts and removes nothing.
* ``RecordError``: one record cannot be synced (no name, dangling reference, a name the target
  rejects). It goes into the report and the run goes on.
* ``ConfigError``: the configuration or the credentials are wrong. Abort the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from connectors.records import Event, Role, School, Section, User


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


T = TypeVar("T")
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


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int, window: int = 0) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads, results in order, at most ``window`` (default
    ``4 * workers``) submitted and not yet taken.

    ``ThreadPoolExecutor.map`` makes a future for every item up front: for the 10,000 accounts of a
    full sync that is about 15 MB held at once. Here the next item is submitted only as the oldest
    result is taken. An exception from ``fn`` comes out of the iterator at that item's turn.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        limit = window or 4 * workers
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
BIG_BUFFER = 64 * 1024


def big_buffers_to_mmap() -> bool:
    """Have glibc give allocations of 64 KiB and more their own mappings, returned when freed.

    A sync reads Clever's pages as 64 KiB chunks and Keycloak's listings as bodies of a few
    hundred KiB. By default glibc moves its mmap threshold up to the size of the largest block
    freed so far, so after the first page these buffers come from the heap, between the small
    objects a run keeps, and the heap cannot shrink past them. With the threshold fixed, the
    worker's peak during a full no-op run at 10,000 students was 107-108 MB instead of 113-116 MB
    (three runs each, ``bench/README.md``). False where the C library is not glibc (nothing done).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, BIG_BUFFER))
    except (OSError, AttributeError):
        return False
