"""Redis holds nothing executable and lets no one in without the password.

* A job stored as a pickle (by another client, or an attacker who can write to Redis) is never
  unpickled by our worker: the pickle here would create a file when loaded; the job fails as
  undecodable and the file does not appear.
* The worker refuses to start against Redis without the password, naming the setting.
* A queued sync's payload is JSON of ids and flags: no secret of the settings is in it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError, ResponseError
from rq import SimpleWorker

from plugin.config.settings import Settings
from plugin.runs import jobs, queues
from plugin.sync.run_options import RunOptions
from tests.conftest import ROOT, worker_environment

pytestmark = pytest.mark.integration


class _TouchWhenLoaded:
    """Unpickling this creates ``path``: what any pickle may do, run code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def test_a_pickled_job_is_refused_and_never_unpickled(redis_url: str, tmp_path: Path) -> None:
    connection = Redis.from_url(redis_url)
    queue = queues.queue(jobs.QUEUE_NAME, connection)
    job = queue.enqueue("tests.jobs.record_marker", redis_url, "never")
    marker = tmp_path / "unpickled"
    payload = ("tests.jobs.record_marker", None, (_TouchWhenLoaded(marker),), {})
    connection.hset(f"rq:job:{job.id}", "data", zlib.compress(pickle.dumps(payload)))

    queues.worker([queue], connection, SimpleWorker).work(burst=True)

    assert not marker.exists()
    assert connection.get("smoke:never") is None  # the job's function did not run either
    assert job.id in queue.failed_job_registry.get_job_ids()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port}"))


def test_redis_without_the_password_refuses_the_worker(settings: Settings) -> None:
    bare = _without_password(settings.redis_url)
    with pytest.raises((AuthenticationError, ResponseError)):
        Redis.from_url(bare).ping()
    env = {**worker_environment(settings), "KCC_REDIS_URL": bare}
    done = subprocess.run(
        [sys.executable, str(ROOT / "worker.py"), "--burst"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "Redis refused the worker" in done.stderr and "KCC_REDIS_URL" in done.stderr
    password = urlsplit(settings.redis_url).password
    assert password and password not in done.stderr + done.stdout


def test_a_queued_sync_carries_ids_and_flags_only(settings: Settings) -> None:
    run_id, queued = jobs.trigger_sync(settings, "d1", run=RunOptions(full=True))
    assert queued
    connection = Redis.from_url(settings.redis_url)
    raw = zlib.decompress(connection.hget(f"rq:job:sync-{run_id}", "data") or b"")
    for secret in (
        settings.secret_key,
        settings.keycloak.client_secret,
        settings.ldap.bind_password,
        urlsplit(settings.redis_url).password or "",
    ):
        assert secret and secret.encode() not in raw
    job = queues.fetch(f"sync-{run_id}", connection)
    assert (list(job.args), job.kwargs["run"]["full"]) == (["d1", run_id], True)
    assert os.fsencode("Settings") not in raw
