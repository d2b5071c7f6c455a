"""Thin worker entry point: build Settings, run an RQ worker (with RQ's scheduler) on our queue.

At start it makes sure the next weekly run and (when on) the next continuous tick are scheduled.

Jobs are JSON only (``plugin.runs.queues``). A Redis that refuses the worker's credentials (the
password is in ``KCC_REDIS_URL``: ``redis://kcc:<password>@host:port/0``) stops it at once with a
message that names the setting, never the password.
"""

from __future__ import annotations

import sys

from redis import Redis
from redis.exceptions import AuthenticationError, ResponseError

from plugin.config.hardening import require_secret_key
from plugin.config.settings import Settings
from plugin.runs import queues
from plugin.runs.continuous import ensure_continuous
from plugin.runs.jobs import QUEUE_NAME, ensure_weekly

__all__ = ["QUEUE_NAME", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run a worker until stopped; ``--burst`` drains the queue and exits."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings.from_env()
    if settings.secret_key:  # a KCC_*-only deployment may have none; a weak one is refused
        require_secret_key(settings.secret_key)
    connection = Redis.from_url(settings.redis_url)
    try:
        connection.ping()
    except (AuthenticationError, ResponseError) as exc:  # NOAUTH, WRONGPASS
        raise SystemExit(
            f"Redis refused the worker ({type(exc).__name__}): check KCC_REDIS_URL's user and password"
        ) from None
    ensure_weekly(settings)  # the next weekly run is an RQ scheduled job: survives restarts
    ensure_continuous(settings)  # and the next continuous tick, when continuous updates are on
    worker = queues.worker([queues.queue(QUEUE_NAME, connection)], connection)
    worker.work(with_scheduler=True, burst="--burst" in args)


if __name__ == "__main__":
    main()
