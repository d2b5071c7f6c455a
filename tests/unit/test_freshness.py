"""Continuous updates' grid, their settings, and how freshness is said."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from model.base import ConfigError
from plugin.admin.held import parse_confirmation
from plugin.config.settings import Settings
from plugin.runs.continuous import next_tick
from plugin.runs.freshness import Freshness, ago
from tests.unit.test_settings import MINIMAL


def test_ticks_sit_on_a_grid_counted_from_the_epoch() -> None:
    at = datetime(2026, 12, 1, 10, 3, 30, tzinfo=UTC)
    assert next_tick(at, 2) == datetime(2026, 12, 1, 10, 4, tzinfo=UTC)
    assert next_tick(datetime(2026, 12, 1, 10, 4, tzinfo=UTC), 2) == datetime(2026, 12, 1, 10, 6, tzinfo=UTC)
    assert next_tick(at, 1) == datetime(2026, 12, 1, 10, 4, tzinfo=UTC)
    assert next_tick(at, 15) == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)


def test_continuous_updates_and_retention_are_off_by_default_and_checked() -> None:
    options = Settings.from_env(MINIMAL).options
    assert (options.continuous, options.continuous_minutes, options.retention_days) == (False, 2, 0)
    on = Settings.from_env({**MINIMAL, "KCC_CONTINUOUS": "true", "KCC_CONTINUOUS_MINUTES": "1"}).options
    assert (on.continuous, on.continuous_minutes) == (True, 1)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**MINIMAL, "KCC_CONTINUOUS_MINUTES": "0", "KCC_RETENTION_DAYS": "-3"})
    assert "KCC_CONTINUOUS_MINUTES: must be 1 to 1440 minutes" in str(raised.value)
    assert "KCC_RETENTION_DAYS: must be 0 (off) or 1 to 3650 days" in str(raised.value)


def test_freshness_in_words() -> None:
    assert [ago(s) for s in (5, 60, 130, 3 * 3600, 2 * 86400)] == [
        "just now",
        "1 minute ago",
        "2 minutes ago",
        "3 hours ago",
        "2 days ago",
    ]
    fresh = Freshness(
        checked=1000.0, applied=580.0, applied_run="r1", tick=1000.0, tick_outcome="busy", tick_note="run x"
    )
    assert fresh.applied_words(now=1000.0) == "last change from Clever applied 7 minutes ago"
    assert fresh.lag_s(now=1090.0) == 90.0
    assert (
        fresh.tick_words(now=1000.0)
        == "last tick just now: skipped: another run was syncing the district (run x)"
    )
    assert Freshness().applied_words() == "no change from Clever applied yet" and Freshness().lag_s() is None


def test_approving_a_run_that_deletes_repeats_the_deletions() -> None:
    assert parse_confirmation({"people": "2", "classes": "0", "memberships": "4"}) == {
        "people": 2,
        "classes": 0,
        "memberships": 4,
    }
    assert parse_confirmation(
        {"people": 2, "classes": 0, "memberships": 4, "deleted": "3", "unlinked": 0}
    ) == {
        "people": 2,
        "classes": 0,
        "memberships": 4,
        "deleted": 3,
    }
    assert parse_confirmation({"people": 2, "classes": 0, "memberships": 4, "deleted": "x"}) is None
