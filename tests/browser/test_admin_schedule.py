"""The weekly schedule and the run audit on the page, in Chromium.

The zone field offers the admin's browser zone (Chromium set to America/Chicago) until one is
saved, and the server's fallback (``KCC_TIMEZONE``, here UTC) without JavaScript; the admin sets
Wednesday 10:00 to 12:00, the page shows it with the next weekly run and the scheduled job moves
there; a zone that is not an IANA name is refused. A weekly run by that schedule and a Sync pressed
on the page show in the history with who or what started them, and the page shows the last weekly
run. Screenshot: ``test-artifacts/schedule-*.png``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from redis import Redis

from plugin.commands.demo import record_choices
from plugin.config.schedule import WeeklySchedule
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore
from plugin.runs import jobs
from tests.browser.test_admin_page import AdminWorld, admin_world, run_worker, sign_in
from tests.browser.test_admin_standing import demo_settings
from tests.integration.test_admin_auth import admin_redis

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world", "demo_settings"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHICAGO = "America/Chicago"


def _scheduled(world: AdminWorld) -> datetime:
    when = jobs.scheduled_weekly(world.settings, world.sandbox.district_id)
    assert when is not None
    return when


def test_the_weekly_schedule_is_set_on_the_page_and_the_history_says_who_started_each_run(
    chromium: Browser, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    record_choices(demo_settings)  # Enabled, district confirmed, all schools
    jobs.ensure_weekly(world.settings)  # the worker's start: the default window, in UTC
    context = chromium.new_context(timezone_id=CHICAGO, locale="en-US")
    page = context.new_page()
    try:
        # Without JavaScript the field holds the server's fallback zone.
        plain = chromium.new_context(java_script_enabled=False)
        plain_page = plain.new_page()
        sign_in(plain_page, world)
        plain_page.wait_for_url(world.page_url)
        expect(plain_page.locator("#schedule-timezone")).to_have_value("UTC")
        expect(plain_page.locator("#timezone-note")).to_contain_text("Not saved yet")
        plain.close()

        sign_in(page, world)
        page.wait_for_url(world.page_url)
        expect(page.locator("#schedule-timezone")).to_have_value(CHICAGO)  # the browser's zone, offered
        expect(page.locator("#timezone-note")).to_contain_text(f"Your browser's time zone, {CHICAGO}")
        expect(page.locator("#start_day")).to_have_value("5")  # the article's Saturday 00:01 ...
        expect(page.locator("#end_time")).to_have_value("23:59")  # ... to Sunday 23:59

        page.fill("#schedule-timezone", "Mars/Olympus")
        page.click("#schedule-save")
        expect(page.locator(".flash.error")).to_contain_text("'Mars/Olympus' is not an IANA time zone")
        store = ConfigStore(Redis.from_url(world.settings.redis_url), world.settings)
        assert store.load().schedule == {}

        page.select_option("#start_day", "Wednesday")
        page.fill("#start_time", "10:00")
        page.select_option("#end_day", "Wednesday")
        page.fill("#end_time", "12:00")
        page.fill("#schedule-timezone", CHICAGO)
        page.click("#schedule-save")
        expect(page.locator(".flash.ok")).to_have_text(
            "Weekly sync: Wednesday 10:00 to Wednesday 12:00 (America/Chicago)"
        )
        schedule = WeeklySchedule(start_day=2, start="10:00", end_day=2, end="12:00", timezone=CHICAGO)
        assert store.load().weekly_schedule("UTC") == schedule
        when = _scheduled(world)  # the scheduled weekly run moved to the new window
        assert when == schedule.next_run(datetime.now(UTC)).replace(microsecond=0) or schedule.in_window(when)
        shown = when.astimezone(ZoneInfo(CHICAGO)).strftime("%A %Y-%m-%d %H:%M")
        expect(page.locator("#next-weekly")).to_have_text(shown)
        expect(page.locator("#timezone-note")).to_have_text("Saved on this page.")
        page.locator("#weekly").screenshot(path=str(ARTIFACTS / "schedule-weekly.png"))

        # A weekly run by the saved schedule (its clock inside the window), then a Sync pressed here.
        opens, _ = schedule.window_around(datetime.now(UTC))
        weekly = jobs.weekly_job(world.sandbox.district_id, settings=world.settings, now=opens)
        assert weekly is not None and weekly["status"] == "ok", weekly
        page.click("#sync-now")
        run_worker(world)
        page.goto(world.page_url)
        started_by = page.locator("#history [data-started-by]")
        expect(started_by).to_have_text(["it-admin (admin page)", "weekly schedule"])
        expect(page.locator("#last-weekly")).to_have_text(weekly["run_id"])
        page.locator("#status").screenshot(path=str(ARTIFACTS / "schedule-history.png"))
    finally:
        context.close()
