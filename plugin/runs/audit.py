"""Who or what started a run, in the words the history shows (``RunOptions.started_by``).

Decisions: an admin is named by their Keycloak username and where they acted (the page, the JSON
API); the command line by the operating-system user and host that ran ``keycloak-clever``; the
weekly job as "weekly schedule". Approving a held run names the admin who approved it on the new
run, and on the held run (``SyncReport.decided_by``) beside "discarded" or "approved".
"""

from __future__ import annotations

import getpass
import socket

from redis import Redis

LAST_WEEKLY = "kcc:sync:last-weekly:"  # + district: the run id of the last weekly run
BY_SCHEDULE = "weekly schedule"
BY_DEMO = "make demo"
VIA_PAGE = "admin page"
VIA_API = "JSON API"


def by_admin(username: str, via: str = VIA_PAGE) -> str:
    """ "it-admin (admin page)"."""
    return f"{username} ({via})"


def by_command_line() -> str:
    """ "command line (root@host)": who ran ``keycloak-clever`` and where."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container)
        user = "unknown user"
    return f"command line ({user}@{socket.gethostname()})"


def remember_weekly(redis: Redis, district_id: str, run_id: str) -> None:
    """The weekly job started ``run_id`` (the page shows the last weekly run)."""
    redis.set(LAST_WEEKLY + district_id, run_id)


def last_weekly(redis: Redis, district_id: str) -> str:
    raw = redis.get(LAST_WEEKLY + district_id)
    return raw.decode() if isinstance(raw, bytes) else (raw or "")
