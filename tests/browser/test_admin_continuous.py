"""Continuous updates and retention on the page, in Chromium: off by default and said so; turned
on, the next check is scheduled and, after a tick applied a change from Clever, the page says
"Last change from Clever applied just now"; the retention rule is shown in words, before and after
the admin sets it. Screenshot: ``test-artifacts/continuous-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from redis import Redis

from plugin.commands.demo import record_choices
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore
from plugin.runs import continuous, jobs
from plugin.sync.run_options import RunOptions
from tests.browser.test_admin_page import AdminWorld, admin_world, sign_in
from tests.browser.test_admin_standing import demo_settings
from tests.integration.test_admin_auth import admin_redis
from tests.sync_expect import raw

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world", "demo_settings"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_continuous_updates_and_retention_are_set_and_shown_on_the_page(
    page: Page, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    record_choices(demo_settings)  # Enabled, district confirmed, all schools
    district = world.sandbox.district_id
    sign_in(page, world)
    page.wait_for_url(world.page_url)
    expect(page.locator("#retention-banner")).to_contain_text(
        "Retention off: the account of a person who left Clever stays disabled"
    )
    expect(page.locator("#continuous-state")).to_contain_text(
        "Off: Clever's changes are applied in the weekly window"
    )
    expect(page.locator("#applied-words")).to_have_text("No change from Clever applied yet")

    page.check("#continuous-box")
    page.fill("#continuous-minutes", "2")
    page.click("#continuous-save")
    expect(page.locator(".flash.ok")).to_have_text(
        "Continuous updates on: Clever's changes are applied every 2 minutes"
    )
    expect(page.locator("#continuous-state")).to_contain_text(
        "On: Clever's changes are applied every 2 minutes, next check"
    )
    store = ConfigStore(Redis.from_url(world.settings.redis_url), world.settings)
    assert (store.load().continuous, store.load().continuous_minutes) == (True, 2)
    assert continuous.scheduled_tick(world.settings, district) is not None  # on RQ's scheduler

    # A first sync, then a class renamed in Clever: the next tick applies it.
    page_settings = jobs.page_choices(world.settings).settings
    state = jobs.state_for(page_settings)
    first = jobs.run_locked(page_settings, state, district, "full1", RunOptions(full=True))
    assert first.status == "ok", first.summary()
    section = raw(world.sandbox, "sections")[0]
    world.sandbox.update("sections", section["id"], {"name": "Renamed In Clever"})
    tick = continuous.continuous_job(district, settings=world.settings)
    assert tick["outcome"] == "ran" and tick["status"] == "ok", tick
    page.goto(world.page_url)
    expect(page.locator("#applied-words")).to_have_text("Last change from Clever applied just now")
    expect(page.locator("#applied-run")).to_have_text(tick["run_id"])
    expect(page.locator("#checked-words")).to_have_text("Clever checked just now")
    expect(page.locator("#tick-words")).to_contain_text("Last tick just now: applied Clever's changes")
    page.locator("#continuous").screenshot(path=str(ARTIFACTS / "continuous-on.png"))

    page.check("#retention-box")
    page.fill("#retention-days", "45")
    page.click("#retention-save")
    expect(page.locator(".flash.ok")).to_contain_text(
        "Retention on: an account the sync created is deleted 45 days"
    )
    expect(page.locator("#retention-rule")).to_contain_text(
        "Retention is on: an account the sync created is deleted 45 days after its person left Clever; "
        "an account it only linked (a directory or existing account) is never deleted"
    )
    expect(page.locator("#retention-banner")).to_contain_text("Retention on")
    assert store.load().retention_days == 45
    page.locator("#retention").screenshot(path=str(ARTIFACTS / "continuous-retention.png"))
