"""Threads and buffers of the clients' I/O: a bounded parallel map, and glibc's mmap threshold."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
