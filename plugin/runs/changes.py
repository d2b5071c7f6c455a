"""The list of who a held run (or a dry run) would change, kept beside its report in Redis.

Key ``kcc:sync:would-change:<run_id>``: the JSON of ``plugin.sync.would_change.WouldChange``,
kept ``KEEP_DAYS`` days (longer than any run is held; the report itself keeps the counts). The
job that runs a held or dry run writes it (``plugin.runs.jobs.run_locked``); the admin page, its
CSV, the JSON API and ``keycloak-clever`` read it.
"""

from __future__ import annotations

import json

from redis import Redis

from plugin.sync.report import SyncReport
from plugin.sync.would_change import WouldChange

PREFIX = "kcc:sync:would-change:"
KEEP_DAYS = 180


class ChangeStore:
    """Save and load a run's ``WouldChange``."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def save(self, run_id: str, changes: WouldChange) -> None:
        self.redis.set(PREFIX + run_id, json.dumps(changes.to_dict()), ex=KEEP_DAYS * 86400)

    def load(self, run_id: str) -> WouldChange | None:
        raw = self.redis.get(PREFIX + run_id)
        return WouldChange.from_dict(json.loads(raw)) if raw else None

    def of(self, report: SyncReport) -> WouldChange:
        """The run's list, or (a run held before lists were kept, or whose list expired) its totals
        from the report's preview, with nobody named."""
        found = self.load(report.run_id)
        if found is not None:
            return found
        keycloak = report.preview.get("keycloak", {})
        totals = {
            "people": int(keycloak.get("disable_users", 0)),
            "classes": int(keycloak.get("retire_groups", 0)),
            "memberships": int(keycloak.get("remove_members", 0)),
        }
        return WouldChange(totals=totals)
