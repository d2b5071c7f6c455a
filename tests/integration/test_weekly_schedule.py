"""The weekly job runs by the schedule saved on the page (days, times, zone), not the default one:
a fixed clock (``weekly_job(now=...)``) outside it runs nothing and schedules the next opening;
inside it runs once, records who started it, and schedules the week after. Real Keycloak, OpenLDAP,
Redis and RQ's scheduled-job registry; the sandbox as Clever.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from plugin.config.schedule import WeeklySchedule
from plugin.runs import jobs
from plugin.runs.audit import last_weekly
from plugin.runs.state import SyncState
from tests.integration.test_sync_page_jobs import PageWorld, world

pytestmark = pytest.mark.integration
__all__ = ["world"]  # a fixture, imported for this module's tests
# Wednesdays 10:00 to 12:00 in Chicago (CDT in June: UTC-5).
SCHEDULE = WeeklySchedule(start_day=2, start="10:00", end_day=2, end="12:00", timezone="America/Chicago")


def _scheduled(world: PageWorld) -> list[datetime]:
    queue = jobs.queue_for(world.settings)
    ids = jobs.weekly_job_ids(queue, world.district_id)
    return [queue.scheduled_job_registry.get_scheduled_time(i).replace(tzinfo=UTC) for i in ids]


def test_the_weekly_job_honours_the_schedule_saved_on_the_page(world: PageWorld) -> None:
    world.save(schedule=SCHEDULE.to_dict())
    state = SyncState.from_url(world.settings.redis_url)

    # Saturday noon: inside the article's default window, outside the saved one. Nothing runs.
    saturday = datetime(2026, 6, 13, 17, tzinfo=UTC)
    assert jobs.weekly_job(world.district_id, settings=world.settings, now=saturday) is None
    assert state.history(world.district_id) == []
    assert _scheduled(world) == [datetime(2026, 6, 17, 15, 0, tzinfo=UTC)]  # Wednesday 10:00 CDT

    # Wednesday 10:30 in Chicago: the run, started by the schedule.
    inside = datetime(2026, 6, 17, 15, 30, tzinfo=UTC)
    report = jobs.weekly_job(world.district_id, settings=world.settings, now=inside)
    assert report is not None and report["status"] == "ok", report
    assert (report["trigger"], report["started_by"]) == ("weekly", "weekly schedule")
    assert last_weekly(state.redis, world.district_id) == report["run_id"]
    assert state.weekly_done(world.district_id) == "2026-06-17"
    assert _scheduled(world) == [datetime(2026, 6, 24, 15, 0, tzinfo=UTC)]  # a week later

    # Once per window: a second call inside it runs nothing.
    assert jobs.weekly_job(world.district_id, settings=world.settings, now=inside.replace(minute=45)) is None
    assert len(state.history(world.district_id)) == 1


def test_saving_a_schedule_moves_the_scheduled_weekly_run(world: PageWorld) -> None:
    world.save()
    default = jobs.ensure_weekly(world.settings)  # the worker's start: the default window
    assert default is not None and len(_scheduled(world)) == 1

    now = datetime.now(UTC)
    moved = jobs.reschedule_weekly(world.settings, world.district_id, SCHEDULE)
    [when] = _scheduled(world)  # one weekly run per district, the default one is gone
    assert moved.id != default.id
    if SCHEDULE.in_window(now):  # the test runs on a Wednesday morning in Chicago: at once
        assert abs((when - now).total_seconds()) < 60
    else:
        assert when == SCHEDULE.next_run(now)
        assert when.astimezone(ZoneInfo("America/Chicago")).strftime("%A %H:%M") == "Wednesday 10:00"
