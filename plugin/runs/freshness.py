"""How fresh the realm is: when Clever was last checked, and when a change from it was last applied.

Every run adds to it (``note_run``, from ``plugin.runs.metrics.record_run`` at the end of each
run) and so does every continuous tick that found nothing new (``note_tick``). Kept in one Redis
hash per district, ``kcc:sync:freshness:<district>``:

    checked       Unix time a run or tick that ended well (``ok``, ``no-changes``, a tick with no
                  event) *started*: every change Clever made before that moment is in Keycloak and
                  LDAP. ``now - checked`` is the lag the page, ``keycloak-clever status`` and the
                  metric ``kcc_sync_freshness_seconds`` show.
    applied       Unix time the newest run that wrote a change (``ok`` or ``partial``) ended:
                  "last change from Clever applied N minutes ago"; ``applied_run`` is its id.
    tick          Unix time of the last continuous tick, ``tick_outcome`` what it did
                  (``TICK_OUTCOMES``), ``tick_note`` its words (the running run, the error), and
                  ``ticks:<outcome>`` how many of each.

Nothing here decides anything: it only remembers, for the people who watch the sync.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from plugin.sync.report import SyncReport

PREFIX = "kcc:sync:freshness:"
CHECKED = ("ok", "no-changes")  # runs that saw everything Clever had when they started
APPLIED = ("ok", "partial")  # runs whose writes reached Keycloak and LDAP
TICK_OUTCOMES = {
    "checked": "checked Clever: nothing new",
    "ran": "applied Clever's changes",
    "busy": "skipped: another run was syncing the district",
    "held": "skipped: a run is waiting for your review",
    "no-cursor": "skipped: waiting for a first sync (press Sync, or the weekly run)",
    "backoff": "skipped: the last checks' runs failed, the next try waits longer each time",
    "unchanged": "skipped: nothing new in Clever since a run that ended partial (see its errors)",
    "failed": "failed",
}


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the hash holds, read once (times are Unix seconds; 0 = never)."""

    checked: float = 0.0
    applied: float = 0.0
    applied_run: str = ""
    tick: float = 0.0
    tick_outcome: str = ""
    tick_note: str = ""
    ticks: dict[str, int] = field(default_factory=dict)
    failures: int = 0  # continuous runs in a row that failed (``plugin.runs.continuous`` backs off)
    failed_at: float = 0.0
    stuck_at: str = ""  # the newest event of the last continuous run, when it ended partial

    def lag_s(self, now: float | None = None) -> float | None:
        """Seconds since Clever was last checked (None: never)."""
        return max(0.0, (now or time.time()) - self.checked) if self.checked else None

    def applied_words(self, now: float | None = None) -> str:
        """ "last change from Clever applied 7 minutes ago" (or that none was yet)."""
        if not self.applied:
            return "no change from Clever applied yet"
        return f"last change from Clever applied {ago((now or time.time()) - self.applied)}"

    def checked_words(self, now: float | None = None) -> str:
        """ "Clever checked 1 minute ago" (or never)."""
        if not self.checked:
            return "Clever not checked yet"
        return f"Clever checked {ago((now or time.time()) - self.checked)}"

    def tick_words(self, now: float | None = None) -> str:
        """The last continuous tick in words, or "" when there was none."""
        if not self.tick:
            return ""
        what = TICK_OUTCOMES.get(self.tick_outcome, self.tick_outcome)
        note = f" ({self.tick_note})" if self.tick_note else ""
        return f"last tick {ago((now or time.time()) - self.tick)}: {what}{note}"

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        """JSON for the page's API and ``keycloak-clever status --json``, the words included."""
        now = now or time.time()
        return {
            "checked": _iso(self.checked),
            "applied": _iso(self.applied),
            "applied_run": self.applied_run,
            "lag_s": None if (lag := self.lag_s(now)) is None else round(lag, 1),
            "applied_words": self.applied_words(now),
            "checked_words": self.checked_words(now),
            "tick": _iso(self.tick),
            "tick_outcome": self.tick_outcome,
            "tick_words": self.tick_words(now),
            "ticks": dict(self.ticks),
        }


def ago(seconds: float) -> str:
    """ "just now", "1 minute ago", "7 minutes ago", "3 hours ago", "2 days ago"."""
    minutes = int(max(0.0, seconds) // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds") if moment else ""


def _key(district_id: str) -> str:
    return PREFIX + district_id


def note_run(redis: Redis, report: SyncReport) -> None:
    """A finished run: it checked Clever (``CHECKED``), and it applied a change (``APPLIED``, writes)."""
    mapping: dict[Any, Any] = {}
    if report.status in CHECKED and report.started and not report.dry_run:
        mapping["checked"] = datetime.fromisoformat(report.started).timestamp()
    if report.status in APPLIED and report.ended and any(report.writes.values()):
        mapping["applied"] = datetime.fromisoformat(report.ended).timestamp()
        mapping["applied_run"] = report.run_id
    if mapping:
        _raise_to(redis, report.district_id, mapping)
    if report.status == "ok":  # whatever started it: the continuous ticks need not wait or skip
        redis.hset(_key(report.district_id), mapping={"failures": 0, "stuck_at": ""})


def _raise_to(redis: Redis, district_id: str, mapping: dict[Any, Any]) -> None:
    """Write the times, never moving one back (an older run that ends last does not win). The
    times are whole seconds (the report's): of two runs that end in the same second, the one noted
    last is the newer (an incremental run can end in the second the run before it ended)."""
    held = load(redis, district_id)
    if mapping.get("checked", 0) < held.checked:
        mapping.pop("checked", None)
    if mapping.get("applied", 0) < held.applied:
        mapping.pop("applied", None)
        mapping.pop("applied_run", None)
    if mapping:
        redis.hset(_key(district_id), mapping=mapping)


def note_tick(redis: Redis, district_id: str, outcome: str, *, started: float, note: str = "") -> None:
    """A continuous tick's outcome; a tick that found nothing new also checked Clever at ``started``."""
    pipe = redis.pipeline()
    pipe.hset(_key(district_id), mapping={"tick": started, "tick_outcome": outcome, "tick_note": note})
    pipe.hincrby(_key(district_id), f"ticks:{outcome}", 1)
    pipe.execute()
    if outcome == "checked":
        _raise_to(redis, district_id, {"checked": started})


def load(redis: Redis, district_id: str) -> Freshness:
    """The district's freshness (zeros when nothing is known yet)."""
    raw = {_text(k): _text(v) for k, v in redis.hgetall(_key(district_id)).items()}
    return Freshness(
        checked=float(raw.get("checked", 0) or 0),
        applied=float(raw.get("applied", 0) or 0),
        applied_run=raw.get("applied_run", ""),
        tick=float(raw.get("tick", 0) or 0),
        tick_outcome=raw.get("tick_outcome", ""),
        tick_note=raw.get("tick_note", ""),
        ticks={k.removeprefix("ticks:"): int(v) for k, v in raw.items() if k.startswith("ticks:")},
        failures=int(raw.get("failures", 0) or 0),
        failed_at=float(raw.get("failed_at", 0) or 0),
        stuck_at=raw.get("stuck_at", ""),
    )


def note_result(redis: Redis, district_id: str, status: str, *, newest: str, at: float) -> None:
    """How a continuous tick's run ended: ``failed`` counts a failure (the ticks back off), ``partial``
    remembers the newest event it saw (``stuck_at``), anything else clears both."""
    key = _key(district_id)
    if status == "failed":
        pipe = redis.pipeline()
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "failed_at", at)
        pipe.execute()
        return
    redis.hset(key, mapping={"failures": 0, "stuck_at": newest if status == "partial" else ""})


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
