"""Thin worker entry point: build Settings, run an RQ worker (with RQ's scheduler) on our queue."""

from __future__ import annotations

import sys

from redis import Redis
from rq import Queue, Worker

from plugin.hardening import require_secret_key
from plugin.jobs import QUEUE_NAME, ensure_weekly
from plugin.settings import Settings

__all__ = ["QUEUE_NAME", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run a worker until stopped; ``--burst`` drains the queue and exits."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings.from_env()
    if settings.secret_key:  # a KCC_*-only deployment may have none; a weak one is refused
        require_secret_key(settings.secret_key)
    connection = Redis.from_url(settings.redis_url)
    ensure_weekly(settings)  # the next weekly run is an RQ scheduled job: survives restarts
    worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(with_scheduler=True, burst="--burst" in args)


if __name__ == "__main__":
    main()
