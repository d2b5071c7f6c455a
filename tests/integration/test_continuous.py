"""Issue 27, continuous updates: a tick every N minutes from Clever's events, skipped (not queued)
while another run holds the district, scheduled on RQ's scheduler as JSON jobs, off by default.
The real Keycloak, Redis, OpenLDAP and the sandbox's Events."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from keycloak import KeycloakAdmin
from redis import Redis

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import continuous, freshness, jobs, queues
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState
from tests.sync_expect import raw

pytestmark = pytest.mark.integration


def _enabled(admin: KeycloakAdmin, clever_id: str) -> bool:
    return bool(admin.get_users({"idpAlias": "clever", "idpUserId": clever_id})[0]["enabled"])


def test_a_tick_skips_while_a_run_holds_the_district_then_applies_clevers_changes(
    clever_settings: Settings, sandbox_state: SandboxState, keycloak_admin: KeycloakAdmin, redis_url: str
) -> None:
    settings = clever_settings.with_options(continuous=True, continuous_minutes=2)
    ensure_broker(keycloak_admin, settings)
    state = SyncState.from_url(redis_url)
    district = settings.clever.district_id
    client = CleverClient(settings.clever)
    first = jobs.run_locked(settings, state, district, "full1", RunOptions(full=True), source=client)
    assert first.status == "ok", first.summary()
    leaver = sandbox_state.people("student")[0]["id"]
    sandbox_state.delete("users", leaver)

    # A run is active (a Sync, the weekly run: it holds the district's lease): the tick is
    # skipped, not queued behind it.
    with state.lease(district, "someone-else"):
        before = datetime.now(UTC)
        busy = continuous.continuous_job(district, settings=settings, source=client)
        after = datetime.now(UTC)
        assert state.running(district) == "someone-else"  # its lock untouched
    assert busy["outcome"] == "busy", busy
    assert _enabled(keycloak_admin, leaver)  # nothing applied
    assert [r.run_id for r in state.history(district)] == ["full1"]  # no run, no report
    assert freshness.load(state.redis, district).tick_outcome == "busy"
    queue = jobs.queue_for(settings)
    assert [j for j in queue.get_job_ids()] == []  # nothing waits in the queue
    scheduled = continuous.tick_ids(queue, district)
    assert len(scheduled) == 1  # the next tick, on RQ's scheduler
    grid = {continuous.next_tick(before, 2), continuous.next_tick(after, 2)}  # every 2 minutes
    assert continuous.scheduled_tick(settings, district) in grid
    job = queues.fetch(scheduled[0], Redis.from_url(redis_url))  # JSON, as every job here
    assert job.func_name == "plugin.runs.continuous.continuous_job" and tuple(job.args) == (district,)

    # The run ends: the next tick applies the departure as an incremental run.
    ran = continuous.continuous_job(district, settings=settings, source=client)
    assert ran["outcome"] == "ran" and ran["status"] == "ok", ran
    assert not _enabled(keycloak_admin, leaver)
    report = state.history(district)[0]
    assert (report.trigger, report.mode, report.started_by) == (
        "continuous",
        "incremental",
        "continuous updates",
    )
    assert report.kinds["students"]["disabled"] == 1 and report.access_ended["people"] == 1
    assert state.running(district) is None
    fresh = freshness.load(state.redis, district)
    assert fresh.applied_run == report.run_id and fresh.applied_words().endswith("just now")

    # Nothing new in Clever: the tick checks, stores no report, and says Clever was checked.
    checked = continuous.continuous_job(district, settings=settings, source=client)
    assert checked["outcome"] == "checked", checked
    assert state.history(district)[0].run_id == report.run_id
    assert freshness.load(state.redis, district).checked > fresh.checked
    assert len(continuous.tick_ids(queue, district)) == 1  # one chain, whatever ran

    # A run that ended partial is run again only once Clever has something new; after a failed
    # run the ticks back off.
    renamed = sandbox_state.update("sections", raw(sandbox_state, "sections")[0]["id"], {"name": "Art 2"})
    freshness.note_result(state.redis, district, "partial", newest=renamed[-1]["id"], at=time.time())
    assert continuous.continuous_job(district, settings=settings, source=client)["outcome"] == "unchanged"
    assert state.history(district)[0].run_id == report.run_id  # no run
    freshness.note_result(state.redis, district, "failed", newest="", at=time.time())
    assert continuous.continuous_job(district, settings=settings, source=client)["outcome"] == "backoff"
    assert continuous.backoff_s(freshness.load(state.redis, district), 2, time.time()) > 200  # 2 x 2 min
    freshness.note_result(state.redis, district, "ok", newest="", at=time.time())
    again = continuous.continuous_job(district, settings=settings, source=client)
    assert (again["outcome"], again["status"]) == ("ran", "ok"), again

    # A held run pauses the ticks: its departures cannot be applied past the brake.
    state.hold(state.history(district)[0])
    assert continuous.continuous_job(district, settings=settings, source=client)["outcome"] == "held"


def test_continuous_updates_off_schedule_nothing_and_the_page_turns_them_on_and_off(
    clever_settings: Settings, redis_url: str
) -> None:
    settings = clever_settings  # off by default
    district = settings.clever.district_id
    queue = jobs.queue_for(settings)
    assert settings.options.continuous is False
    assert continuous.ensure_continuous(settings) is None
    assert continuous.continuous_job(district, settings=settings)["outcome"] == "off"
    assert continuous.tick_ids(queue, district) == []

    on = settings.with_options(continuous=True, continuous_minutes=5)
    before = datetime.now(UTC)
    job = continuous.ensure_continuous(on)
    after = datetime.now(UTC)
    assert job is not None and continuous.tick_ids(queue, district) == [job.id]
    assert continuous.ensure_continuous(on) is None  # one chain: a second worker adds none
    assert continuous.scheduled_tick(on, district) in {continuous.next_tick(t, 5) for t in (before, after)}
    assert continuous.reschedule(settings, district) is None  # off again: cancelled
    assert continuous.tick_ids(queue, district) == []


def test_of_two_runs_ending_in_the_same_second_the_one_noted_last_is_the_last_applied(redis_url: str) -> None:
    """Freshness keeps whole seconds (the report's times): an incremental run can end in the second
    the run before it ended, and the page must then name it; an older run noted later does not."""
    redis = Redis.from_url(redis_url)
    district = "d-same-second"
    redis.delete(f"{freshness.PREFIX}{district}")

    def run(run_id: str, ended: str) -> SyncReport:
        report = SyncReport(run_id=run_id, district_id=district, status="ok", started=ended, ended=ended)
        report.writes = {"keycloak": 1, "ldap": 0}
        return report

    freshness.note_run(redis, run("full1", "2026-12-07T19:47:17+00:00"))
    freshness.note_run(redis, run("tick1", "2026-12-07T19:47:17+00:00"))
    assert freshness.load(redis, district).applied_run == "tick1"
    freshness.note_run(redis, run("older", "2026-12-07T19:47:10+00:00"))
    assert freshness.load(redis, district).applied_run == "tick1"
    redis.delete(f"{freshness.PREFIX}{district}")
