"""Jobs run with what the admin page set (Clever app, options, schools, Enabled), write their progress
for the page's bar, and the weekly run goes through RQ's real scheduler in a ``worker.py`` process.

Real Keycloak, OpenLDAP and Redis, the sandbox over HTTP. Redis db ``JOBS_REDIS_DB`` is these tests'
own (a worker with a scheduler must not take other sessions' jobs, nor lose its own to their flushes).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin
from redis import Redis
from rq import SimpleWorker

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.commands.cli import cli
from plugin.config.settings import Settings
from plugin.config.store import CLIENT_SECRET, ConfigStore, IntegrationConfig
from plugin.runs import jobs, queues
from plugin.runs.state import SyncState
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app as create_sandbox
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState
from tests.conftest import worker_environment
from tests.integration.test_admin_auth import make_user, password_token
from tests.sync_expect import raw

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
JOBS_REDIS_DB = 11  # 9, 12, 13 are flushed by other sessions' tests, 15 is the benchmark's
SECRET_KEY = secrets.token_hex(32)
ZONE = "America/New_York"


@dataclasses.dataclass
class PageWorld:
    """A realm whose Clever app, district and choices are only on the admin page (not in ``KCC_*``)."""

    settings: Settings
    sandbox: SandboxState
    sandbox_url: str
    store: ConfigStore

    @property
    def district_id(self) -> str:
        return self.sandbox.district_id

    def save(self, **changes: Any) -> IntegrationConfig:
        config = dataclasses.replace(
            IntegrationConfig(
                enabled=True,
                clever_client_id="sandbox-client",
                district_id=self.district_id,
                school_mode="all",
            ),
            **changes,
        )
        self.store.save(config)
        self.store.secrets.put(CLIENT_SECRET, "sandbox-secret")
        return config

    def school(self, index: int = 0) -> dict[str, Any]:
        return sorted(raw(self.sandbox, "schools"), key=lambda s: s["id"])[index]

    def environment(self) -> dict[str, str]:
        """``KCC_*`` as a worker or the CLI has them: services, realm, secret key; no Clever app."""
        return worker_environment(
            self.settings,
            KCC_CLEVER_OAUTH_URL=self.sandbox_url,
            KCC_CLEVER_API_URL=self.sandbox_url,
            KCC_SECRET_KEY=SECRET_KEY,
            KCC_TIMEZONE=self.settings.options.timezone,
        )


@pytest.fixture
def world(settings: Settings) -> Iterator[PageWorld]:
    redis_url = settings.redis_url.rsplit("/", 1)[0] + f"/{JOBS_REDIS_DB}"
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    sandbox_app = create_sandbox(SandboxConfig(size=20, seed=7))
    try:
        with serve(sandbox_app) as sandbox_url:
            clever = dataclasses.replace(
                settings.clever,
                oauth_url=sandbox_url,
                api_url=sandbox_url,
                client_id="",
                client_secret="",
                district_id="",
            )
            page_settings = dataclasses.replace(
                settings, clever=clever, secret_key=SECRET_KEY, redis_url=redis_url
            ).with_options(timezone=ZONE)
            yield PageWorld(
                page_settings,
                sandbox_app.extensions["clever_sandbox"],
                sandbox_url,
                ConfigStore(redis, page_settings),
            )
    finally:
        redis.flushdb()
        redis.close()


def _schools(admin: KeycloakAdmin) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.get_group_children(admin.get_group_by_path("/Clever")["id"])
    return found


def _class_groups(admin: KeycloakAdmin) -> dict[str, str]:
    """Clever section id -> class group name, every school."""
    found: dict[str, str] = {}
    for school in _schools(admin):
        classes = admin.get_group_by_path(f"/Clever/{school['name']}/Classes")
        for group in admin.get_group_children(classes["id"], {"briefRepresentation": "false"}):
            found[group["attributes"]["clever_id"][0]] = group["name"]
    return found


def test_a_job_and_the_cli_sync_run_with_the_pages_app_options_and_schools(
    world: PageWorld, keycloak_admin: KeycloakAdmin
) -> None:
    school = world.school(1)
    world.save(school_mode="search", schools={school["id"]: school["name"]}, force_unique_class_names=True)

    report = jobs.sync_job(world.district_id, "page1", settings=world.settings, run=RunOptions(full=True))

    assert report["status"] == "ok", report["errors"]
    schools = [g["name"] for g in _schools(keycloak_admin)]
    assert schools == [school["name"]]  # the chosen school only
    sections = {s["id"] for s in raw(world.sandbox, "sections") if s["school"] == school["id"]}
    classes = _class_groups(keycloak_admin)
    assert set(classes) == sections
    assert all(name.endswith(f" - {clever_id}") for clever_id, name in classes.items())  # Force Unique

    # ``keycloak-clever sync`` reads the same page: a dry full run there has nothing left to do.
    result = CliRunner().invoke(cli, ["sync", "--full", "--dry-run", "--json"], env=world.environment())
    assert result.exit_code == 0, result.output
    dry = json.loads(result.stdout)
    assert dry["status"] == "dry-run" and dry["district_id"] == world.district_id
    assert dry["kinds"]["schools"]["unchanged"] == 1
    assert dry["kinds"]["classes"]["unchanged"] == len(sections)
    assert {k: v for k, v in dry["preview"]["keycloak"].items() if v} == {}


def test_the_weekly_run_does_not_run_while_the_page_has_the_integration_disabled(
    world: PageWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world.save(enabled=False)
    opens, _ = jobs.window_around(datetime.now(UTC), ZONE)
    inside = opens + timedelta(hours=12)

    with caplog.at_level(logging.INFO, logger="plugin.runs.jobs"):
        assert jobs.weekly_job(world.district_id, settings=world.settings, now=inside) is None
        assert jobs.ensure_weekly(world.settings) is None

    assert "integration is disabled" in caplog.text
    assert SyncState.from_url(world.settings.redis_url).history(world.district_id) == []
    assert jobs.weekly_job_ids(jobs.queue_for(world.settings), world.district_id) == []
    world.save(enabled=True)
    assert jobs.ensure_weekly(world.settings) is not None  # enabled: the worker schedules it


_CONTEXT: dict[str, Settings] = {}


def _sync_with_test_settings(district_id: str, run_id: str, **kwargs: Any) -> dict[str, Any]:
    """``sync_job`` as the worker runs it, with the test's Settings instead of the environment's."""
    return jobs.sync_job(district_id, run_id, settings=_CONTEXT["settings"], **kwargs)


def test_a_queued_sync_writes_its_progress_and_the_pages_progress_endpoint_reads_it(
    world: PageWorld, keycloak_admin: KeycloakAdmin
) -> None:
    world.save()
    run_id, queued = jobs.trigger_sync(world.settings, world.district_id, run=RunOptions(full=True))
    assert queued
    connection = Redis.from_url(world.settings.redis_url)
    queue = queues.queue(jobs.QUEUE_NAME, connection)
    job = queue.fetch_job(f"sync-{run_id}")
    assert job is not None
    assert tuple(job.args) == (world.district_id, run_id)  # loads the payload before the function is swapped
    job.func_name = f"{__name__}._sync_with_test_settings"
    job.save()
    _CONTEXT["settings"] = world.settings
    queues.worker([queue], connection, SimpleWorker).work(burst=True)

    job = queues.fetch(f"sync-{run_id}", connection)
    report = SyncState(connection).report(run_id)
    assert report is not None and report.status == "ok", report
    progress = job.meta["progress"]
    assert progress["stage"] == "keycloak"
    assert progress["done"] == progress["total"] > 20  # 20 students at least, in one call each

    make_user(keycloak_admin, "progress-admin", client_roles=("realm-admin",))
    token = password_token(world.settings, "progress-admin")
    answer = (
        create_app(world.settings)
        .test_client()
        .get(f"{URL_PREFIX}/api/runs/{run_id}/progress", headers={"Authorization": f"Bearer {token}"})
    )
    assert answer.status_code == 200, answer.json
    assert answer.json is not None
    assert {k: answer.json[k] for k in ("stage", "done", "total", "status", "finished")} == {
        **progress,
        "status": "ok",
        "finished": True,
    }


def test_the_weekly_run_goes_through_rqs_scheduler_in_a_worker_process(
    world: PageWorld, tmp_path: Path
) -> None:
    world.save()
    # The run's clock: noon on the Saturday of this (or the next) window in the configured zone.
    opens, closes = jobs.window_around(datetime.now(UTC), ZONE)
    now = opens + timedelta(hours=12)
    queue = jobs.queue_for(world.settings)
    first = f"weekly-{world.district_id}-first"
    queue.enqueue_at(
        datetime.now(UTC) + timedelta(seconds=2),
        jobs.weekly_job,
        world.district_id,
        now=now.isoformat(),
        job_id=first,
    )
    state = SyncState.from_url(world.settings.redis_url)
    state.set_cursor(
        world.district_id, f"start:{datetime.now(UTC).isoformat()}"
    )  # a verify run is full anyway
    log_path = tmp_path / "worker.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=world.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while time.monotonic() - started < 60:
                done = queues.fetch(first, queue.connection).get_status(refresh=True)
                if done in ("finished", "failed") or worker.poll() is not None:
                    break
                time.sleep(0.3)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    elapsed = time.monotonic() - started
    output = log_path.read_text()
    assert done == "finished", output[-3000:]

    reports = state.history(world.district_id)
    assert [(r.trigger, r.status) for r in reports] == [("weekly", "ok")], output[-3000:]
    assert (reports[0].mode, reports[0].preview["verified"]) == ("full", True)
    assert reports[0].kinds["students"]["created"] == len(world.sandbox.people("student"))
    assert state.weekly_done(world.district_id) == opens.date().isoformat()

    # The next weekly run: the next window's opening, scheduled under an id of its own that stays.
    next_opens, _ = jobs.window_around(closes + timedelta(minutes=1), ZONE)
    [scheduled] = jobs.weekly_job_ids(queue, world.district_id)
    assert queue.scheduled_job_registry.get_scheduled_time(scheduled) == next_opens.astimezone(UTC)
    assert queues.fetch(scheduled, queue.connection).func_name == "plugin.runs.jobs.weekly_job"
    assert queue.connection.ttl(f"rq:job:{scheduled}") == -1  # does not expire with the run's result
    print(f"scheduler run: {elapsed:.1f} s from enqueue to finished")
