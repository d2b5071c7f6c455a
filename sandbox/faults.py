"""Clever's rate limit and injected faults for the Data API.

Rate limit: a fixed one-minute window per bearer token (Clever: 1200 requests), the windows being
the sandbox clock's minutes, with ``X-RateLimit-Limit/Remaining/Reset`` on every answer (``Reset``:
the Unix second the window ends) and ``429`` with an empty body past it. Injected 429 bursts carry
the same headers with ``Remaining: 0`` and the end of the current window.

Faults (off by default) are drawn from one seeded generator, the same number of draws for every
request, so the n-th request of a run always gets the same fate (for a given sandbox clock): a
500/502/503, the start of a burst of 429s (``burst_len`` answers at most, and never past the end of
the window it started in, whose end its ``X-RateLimit-Reset`` names), added latency, a body cut
in half (its ``Content-Length`` matching the cut, so the client sees broken JSON) or a connection
dropped before any answer.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.config import FaultSpec

WINDOW = 60


@dataclass(frozen=True)
class Quota:
    """Where a token stands in its window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """Clever's rate-limit headers."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Bucket": "sandbox",
        }


def window_end(now: float) -> int:
    """The Unix second the fixed one-minute window holding ``now`` ends (clock minutes)."""
    return (int(now) // WINDOW + 1) * WINDOW


class RateLimiter:
    """Fixed one-minute windows per token, aligned on the clock's minutes."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit, self.clock = limit, clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, token: str) -> Quota:
        """Count one request for ``token``."""
        end = window_end(self.clock())
        with self._lock:
            known_end, used = self._windows.get(token, (end, 0))
            if known_end != end:
                used = 0
            allowed = used < self.limit
            used += allowed
            self._windows[token] = (end, used)
        return Quota(allowed, self.limit, self.limit - used, end)

    def exhausted(self) -> Quota:
        """What an injected 429 says: nothing left until the current window ends."""
        return Quota(False, self.limit, 0, window_end(self.clock()))


@dataclass(frozen=True)
class Fault:
    """What happens to one request."""

    status: int = 0  # 500/502/503 or 429; 0 = answer normally
    latency: float = 0.0
    truncate: bool = False
    drop: bool = False


class FaultInjector:
    """Deterministic faults from a ``FaultSpec``."""

    def __init__(self, spec: FaultSpec, clock: Callable[[], float] = time.time) -> None:
        self.spec, self.clock = spec, clock
        self._rng = random.Random(spec.seed)
        self._burst_left = 0
        self._burst_window = 0  # the end of the window the burst spent
        self._lock = threading.Lock()

    def next(self) -> Fault:
        """The fate of the next request."""
        spec = self.spec
        window = window_end(self.clock())
        with self._lock:
            draws = [self._rng.random() for _ in range(5)]
            if self._burst_left and window == self._burst_window:
                self._burst_left -= 1
                return Fault(status=429, latency=spec.latency_ms / 1000)
            self._burst_left = 0  # a burst never outlasts its window, like a spent real window
            if draws[0] < spec.burst429:
                self._burst_left = max(0, spec.burst_len - 1)
                self._burst_window = window
                return Fault(status=429, latency=spec.latency_ms / 1000)
        latency = spec.latency_ms / 1000
        if draws[1] < spec.error_rate:
            return Fault(status=(500, 502, 503)[int(draws[4] * 3) % 3], latency=latency)
        if draws[2] < spec.drop:
            return Fault(drop=True, latency=latency)
        return Fault(truncate=draws[3] < spec.truncate, latency=latency)
