"""Sync state in Redis: run history and reports, held runs, the event cursor, the per-district lock.

Keys (all under ``kcc:sync:``)::

    report:<run_id>            JSON report (kept with the history)
    history:<district>         list of run ids, newest first, trimmed to HISTORY
    held:<district>            run id of the run waiting for review (at most one)
    cursor:<district>          Clever event id after the last successful full or incremental run
    active:<district>          run id of the running (or queued) run: the lock, with a TTL
    weekly:<district>          ISO date of the window start whose weekly run succeeded
"""

from __future__ import annotations

import json

from redis import Redis

from plugin.report import SyncReport

PREFIX = "kcc:sync:"
HISTORY = 100
LOCK_TTL = 6 * 3600  # a crashed worker frees the district after this


class SyncState:
    """The sync's memory between runs."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @classmethod
    def from_url(cls, url: str) -> SyncState:
        return cls(Redis.from_url(url))

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

    def acquire(self, district_id: str, run_id: str) -> str | None:
        """Take the district's lock for ``run_id``; return the running run's id when it is taken."""
        key = f"{PREFIX}active:{district_id}"
        if self.redis.set(key, run_id, nx=True, ex=LOCK_TTL):
            return None
        running = self.redis.get(key)
        return _text(running) if running else self.acquire(district_id, run_id)

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
