"""Job functions a real RQ worker process imports during the tests."""

from __future__ import annotations

import os
import time

from redis import Redis


def record_marker(redis_url: str, marker: str) -> int:
    """Write the worker's pid under the marker, proving another process ran the job."""
    Redis.from_url(redis_url).set(f"smoke:{marker}", os.getpid())
    return os.getpid()


def sleep_then_mark(redis_url: str, marker: str, seconds: float) -> int:
    """A job that runs for ``seconds`` (Redis may restart meanwhile), then writes its marker."""
    time.sleep(seconds)
    return record_marker(redis_url, marker)


def fail_before_the_lease(district_id: str, run_id: str, **kwargs: object) -> None:
    """A sync job that fails before it claims its district's lease (a worker that cannot start it)."""
    raise RuntimeError(f"run {run_id} of {district_id} could not start")
