"""The weekly sync's schedule on the page: set the day, start and end time and the time zone; show
the last and the next weekly run.

The zone field starts with the admin's browser zone (the page's script reads it) until one is
saved; without JavaScript it starts with ``KCC_TIMEZONE``, else UTC. Saving a schedule while the
integration is enabled moves the scheduled weekly run at once (``plugin.runs.jobs.reschedule_weekly``);
the weekly job itself reads the saved schedule when it runs, so a run queued before a change runs
by the new one (``plugin.runs.jobs.weekly_job``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from plugin.admin.actions import ActionError
from plugin.admin.services import Services
from plugin.config.schedule import DAYS, WeeklySchedule
from plugin.runs import jobs
from plugin.runs.audit import last_weekly
from plugin.runs.state import SyncState

log = logging.getLogger(__name__)


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA zone names this machine knows (the page's suggestions), sorted."""
    return tuple(sorted(available_timezones()))


def set_schedule(svc: Services, values: Mapping[str, Any], by: str) -> str:
    """Save the weekly window (``WeeklySchedule.parse`` checks it) and move the next weekly run."""
    store = svc.store()
    config = store.load()
    try:
        schedule = WeeklySchedule.parse(values, svc.settings.options.timezone)
    except ValueError as exc:
        raise ActionError(f"Schedule not saved: {exc}") from exc
    config.schedule = schedule.to_dict()
    store.save(config)
    log.info("admin page: weekly schedule set to %s by %s", schedule.describe(), by)
    if config.enabled and config.district_id:
        jobs.reschedule_weekly(svc.effective(), config.district_id, schedule)
    return f"Weekly sync: {schedule.describe()}"


def schedule_status(svc: Services) -> dict[str, Any]:
    """The schedule as saved (or the default), whether the admin saved it, the last weekly run and
    the next one (the scheduled job's time while enabled, else when it would be)."""
    config = svc.store().load()
    schedule = config.weekly_schedule(svc.settings.options.timezone)
    now = datetime.now(UTC)
    opens, closes = schedule.window_around(now)
    last = None
    if config.district_id and (run_id := last_weekly(svc.redis, config.district_id)):
        report = SyncState(svc.redis).report(run_id)
        if report is not None:
            last = {"run_id": run_id, "started": report.started, "status": report.status}
    scheduled = jobs.scheduled_weekly(svc.settings, config.district_id) if config.district_id else None
    next_run = (scheduled or schedule.next_run(now)).astimezone(opens.tzinfo)
    return {
        **schedule.to_dict(),
        "saved": bool(config.schedule),
        "fallback_timezone": svc.settings.options.timezone,
        "describe": schedule.describe(),
        "opens": opens.isoformat(),
        "closes": closes.isoformat(),
        "open_now": opens <= now <= closes,
        "next_run": next_run.isoformat(),
        "next_run_text": f"{next_run:%A %Y-%m-%d %H:%M}",
        "next_scheduled": scheduled is not None,
        "last_run": last,
        "days": DAYS,
    }
