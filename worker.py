"""Thin worker entry point: build Settings, run an RQ worker (with RQ's scheduler) on our queue.

At start it makes sure the next weekly run and (when on) the next continuous tick are scheduled.
It keeps working across a Redis restart (``plugin.runs.working``). Jobs are JSON only
(``plugin.runs.queues``). A Redis that refuses the worker's credentials (the
password is in ``KCC_REDIS_URL``: ``redis://kcc:<password>@host:port/0``) stops it at once with a
message that names the setting, never the password.
"""

from __future__ import annotations

import sys

from redis import Redis
from redis.exceptions import AuthenticationError, ResponseError

from plugin.config.hardening import require_secret_key
from plugin.config.settings import Settings
from plugin.runs.continuous import ensure_continuous
from plugin.runs.jobs import QUEUE_NAME, ensure_weekly
from plugin.runs.working import serve

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
    # The next weekly run and (when on) continuous tick are RQ scheduled jobs (they survive
    # restarts); made again at every start.
    serve(connection, [QUEUE_NAME], burst="--burst" in args, on_start=lambda: _schedule(settings))


def _schedule(settings: Settings) -> None:
    ensure_weekly(settings)
    ensure_continuous(settings)


if __name__ == "__main__":
    main()
