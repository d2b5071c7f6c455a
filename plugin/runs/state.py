"""Sync state in Redis: run history and reports, held runs, the event cursor, the per-district lock.

Keys (all under ``kcc:sync:``)::

    report:<run_id>            JSON report (kept with the history)
    history:<district>         list of run ids, newest first, trimmed to HISTORY
    held:<district>            run id of the run waiting for review (at most one)
    cursor:<district>          Clever event id after the last successful full or incremental run
    active:<district>          run id of the running (or queued) run: the lock, with a TTL; a
                               running run holds it as a lease it renews (``SyncState.lease``)
    weekly:<district>          ISO date of the window start whose weekly run succeeded
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from plugin.sync.report import SyncReport, now_iso

log = logging.getLogger(__name__)
PREFIX = "kcc:sync:"
HISTORY = 100
# The lock of a queued run (or a sharded one, whose shards are separate jobs). A run that starts
# turns it into a lease of ``lease_s`` seconds that it renews every third of that: a run whose
# process dies (kill -9, a lost host) frees the district within ``lease_s``; a queued run whose job
# died before it claimed the lease is taken over by the next trigger (``plugin.runs.takeover``).
LOCK_TTL = 6 * 3600
LEASE_S = 30
# A run's state rides out a Redis restart: each command is tried again for about 45 s (the report
# a run stores at its end is not lost to a restart; ``tests/integration/test_redis_restart.py``).
RETRY = Retry(ExponentialBackoff(cap=5.0, base=0.5), retries=12)
DIED = "worker died: the run stopped without finishing (its lease lapsed); the next run took over"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)
_CLAIM = (
    "local held = redis.call('get', KEYS[1]) "
    "if held == false or held == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
    "return false end return held"
)


class SyncState:
    """The sync's memory between runs."""

    def __init__(self, redis: Redis, lease_s: int = LEASE_S) -> None:
        self.redis = redis
        self.lease_s = lease_s

    @classmethod
    def from_url(cls, url: str, lease_s: int = LEASE_S) -> SyncState:
        return cls(Redis.from_url(url, retry=RETRY), lease_s)

    # -- reports ---------------------------------------------------------------------------------

    def save(self, report: SyncReport) -> None:
        """Store (or update) a run's report and put it at the head of its district's history."""
        key = f"{PREFIX}report:{report.run_id}"
        history = f"{PREFIX}history:{report.district_id}"
        is_new = not self.redis.exists(key)
        pipe = self.redis.pipeline()
        pipe.set(key, json.dumps(report.to_dict()))
        if is_new:
            pipe.lpush(history, report.run_id)
            pipe.ltrim(history, 0, HISTORY - 1)
        pipe.execute()

    def report(self, run_id: str) -> SyncReport | None:
        raw = self.redis.get(f"{PREFIX}report:{run_id}")
        return SyncReport.from_dict(json.loads(raw)) if raw else None

    def history(self, district_id: str, limit: int = 20) -> list[SyncReport]:
        ids = self.redis.lrange(f"{PREFIX}history:{district_id}", 0, limit - 1)
        found = (self.report(_text(run_id)) for run_id in ids)
        return [report for report in found if report is not None]

    # -- held runs -------------------------------------------------------------------------------

    def hold(self, report: SyncReport) -> None:
        self.redis.set(f"{PREFIX}held:{report.district_id}", report.run_id)

    def held(self, district_id: str) -> SyncReport | None:
        run_id = self.redis.get(f"{PREFIX}held:{district_id}")
        return self.report(_text(run_id)) if run_id else None

    def release_hold(self, district_id: str, run_id: str) -> bool:
        """Forget the held run ``run_id``; False when it is not the district's held run."""
        key = f"{PREFIX}held:{district_id}"
        held = self.redis.get(key)
        if held is None or _text(held) != run_id:
            return False
        self.redis.delete(key)
        return True

    # -- event cursor ----------------------------------------------------------------------------

    def cursor(self, district_id: str) -> str | None:
        raw = self.redis.get(f"{PREFIX}cursor:{district_id}")
        return _text(raw) if raw else None

    def set_cursor(self, district_id: str, event_id: str | None) -> None:
        key = f"{PREFIX}cursor:{district_id}"
        if event_id:
            self.redis.set(key, event_id)
        else:
            self.redis.delete(key)

    # -- lock --------------------------------------------------------------------------------------

    def acquire(self, district_id: str, run_id: str, ttl: int = LOCK_TTL) -> str | None:
        """Take the district's lock for ``run_id``; return the running run's id when it is taken."""
        key = f"{PREFIX}active:{district_id}"
        if self.redis.set(key, run_id, nx=True, ex=ttl):
            return None
        running = self.redis.get(key)
        return _text(running) if running else self.acquire(district_id, run_id, ttl)

    def claim(self, district_id: str, run_id: str) -> str | None:
        """At a queued run's start: keep its own lock, or take a free one, as a lease; the holder's
        id when another run holds it."""
        held = self.redis.eval(_CLAIM, 1, f"{PREFIX}active:{district_id}", run_id, self.lease_s)
        return _text(held) if held else None

    def lock_ttl(self, district_id: str) -> int:
        """Seconds left on the district's lock (negative when there is none)."""
        return int(self.redis.ttl(f"{PREFIX}active:{district_id}"))

    def take_over(self, district_id: str, stale: str, run_id: str, ttl: int = LOCK_TTL) -> bool:
        """Replace the lock of ``stale`` (a queued run whose job died) by ``run_id``'s, for ``ttl`` s."""
        script = (
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0"
        )
        return bool(self.redis.eval(script, 1, f"{PREFIX}active:{district_id}", stale, run_id, ttl))

    @contextmanager
    def lease(self, district_id: str, run_id: str) -> Iterator[threading.Event]:
        """Hold the district's lock as a lease of ``lease_s`` seconds, renewed every third of it
        while the block runs. The event is set when the lease was lost (another run took over
        after this one stalled for longer than the lease)."""
        lost = threading.Event()
        stop = threading.Event()
        key = f"{PREFIX}active:{district_id}"

        def renew() -> bool:
            try:
                return not self.redis.eval(_CLAIM, 1, key, run_id, self.lease_s)
            except RedisError as exc:  # Redis restarting: try again at the next beat
                log.warning("run %s: the lease could not be renewed: %s", run_id, type(exc).__name__)
                return True

        # A caller that did not take the lock first (a test, a script) gets it here, and it is
        # freed again at the end; otherwise the caller that acquired it releases it.
        took = bool(self.redis.set(key, run_id, nx=True, ex=self.lease_s))
        if not took and not renew():
            lost.set()

        def beat() -> None:
            while not stop.wait(max(1.0, self.lease_s / 3)):
                if not renew():
                    log.error("run %s: lost the district's lease to another run", run_id)
                    lost.set()
                    return

        thread = threading.Thread(target=beat, name=f"lease-{run_id}", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            stop.set()
            thread.join()
            if took:
                self.release(district_id, run_id)

    def reap(self, district_id: str, run_id: str) -> list[str]:
        """Mark the district's runs still "running" that hold no lock (their process died) as
        failed; their ids. ``run_id`` is the run that takes over."""
        holder = self.running(district_id)
        dead: list[str] = []
        for report in self.history(district_id, 10):
            if report.status == "running" and report.run_id not in (run_id, holder):
                report.errors.append(DIED)
                report.status, report.ended = "failed", report.ended or now_iso()
                self.save(report)
                dead.append(report.run_id)
        return dead

    def release(self, district_id: str, run_id: str) -> None:
        """Free the lock if ``run_id`` still holds it (compare-and-delete in one script)."""
        script = (
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
        )
        self.redis.eval(script, 1, f"{PREFIX}active:{district_id}", run_id)

    def running(self, district_id: str) -> str | None:
        raw = self.redis.get(f"{PREFIX}active:{district_id}")
        return _text(raw) if raw else None

    # -- the weekly window -------------------------------------------------------------------------

    def weekly_done(self, district_id: str) -> str | None:
        raw = self.redis.get(f"{PREFIX}weekly:{district_id}")
        return _text(raw) if raw else None

    def set_weekly_done(self, district_id: str, window_start: str) -> None:
        self.redis.set(f"{PREFIX}weekly:{district_id}", window_start)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
