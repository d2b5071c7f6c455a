"""Clever ids: 24-hex Mongo ObjectIds (4 bytes time, 5 bytes machine, 3 bytes counter)."""

from __future__ import annotations

import functools
import re
import threading
import time

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def object_id(timestamp: int, machine: int, counter: int) -> str:
    """An ObjectId-like id; ids sort by time, then machine, then counter, as Clever's do."""
    return f"{timestamp & 0xFFFFFFFF:08x}{machine & 0xFFFFFFFFFF:010x}{counter & 0xFFFFFF:06x}"


def iso(timestamp: float) -> str:
    """Clever's timestamp form, e.g. ``2021-03-02T22:24:53.349Z``."""
    whole = int(timestamp)
    millis = round((timestamp - whole) * 1000) % 1000
    return _second(whole) + f".{millis:03d}Z"


@functools.lru_cache(maxsize=4096)
def _second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


class IdSequence:
    """Ascending ids for objects made while the sandbox runs (events, created records)."""

    def __init__(self, machine: int) -> None:
        self._machine = machine
        self._last_time = 0
        self._counter = 0
        self._lock = threading.Lock()

    def next(self, now: float) -> str:
        """A new id greater than every id this sequence gave before, even if the clock goes back."""
        with self._lock:
            self._last_time = max(self._last_time, int(now))
            self._counter += 1
            return object_id(self._last_time, self._machine, self._counter)
