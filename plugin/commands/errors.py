"""What ``keycloak-clever`` says when something fails: one line a person can act on, never a traceback.

Every command runs under ``KeycloakCleverGroup.invoke`` (``plugin.commands.cli``): an exception
that escapes a command becomes ``Error: <explain(exc)>`` on standard error and exit code 1; its
traceback goes only to the log file (``KCC_LOG_FILE``, default
``~/.local/state/keycloak-clever/keycloak-clever.log``), whose path the line ends with.

``explain`` names the service that could not be reached, with its URL (a password in it replaced
by ``***``) and what to check: Redis (``KCC_REDIS_URL``), Keycloak (``KCC_KEYCLOAK_URL``), LDAP
and Clever (the connectors word those: ``connectors.clever_http.unreachable``,
``connectors.keycloak_http.keycloak_unreachable``, ``connectors.ldap``). The terminal shows log
records of level WARNING and up, without tracebacks; the file keeps INFO and up, with them.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from keycloak.exceptions import KeycloakConnectionError
from redis.exceptions import AuthenticationError as RedisAuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from connectors.keycloak_http import keycloak_unreachable
from model.base import SyncError
from plugin.config.settings import Settings

HANDLER_NAMES = ("keycloak-clever-terminal", "keycloak-clever-file")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def masked(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def explain(exc: BaseException, settings: Settings | None) -> str:
    """One line for a person: which service, at which URL, what to check (or the error's own words)."""
    redis_url = masked(settings.redis_url) if settings else "KCC_REDIS_URL"
    if isinstance(exc, RedisAuthenticationError) or (isinstance(exc, RedisError) and "NOAUTH" in str(exc)):
        return f"Redis at {redis_url} refused the user or password: check KCC_REDIS_URL"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return (
            f"Redis is not reachable at {redis_url} ({type(exc).__name__}): check KCC_REDIS_URL and that "
            "Redis runs (systemctl status redis-server, or make services)"
        )
    if isinstance(exc, RedisError):
        return f"Redis at {redis_url} answered an error: {exc}"
    if isinstance(exc, KeycloakConnectionError):
        return keycloak_unreachable(settings.keycloak.url if settings else "KCC_KEYCLOAK_URL", exc)
    if isinstance(exc, SyncError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _Terminal(logging.StreamHandler[TextIO]):
    """Standard error as it is when a record is written (a test runner may swap it), no traceback."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_Plain("%(levelname)s: %(message)s"))
        # urllib3 warns of each retry it makes; the error the retries end in is what a person needs.
        self.addFilter(
            lambda record: not record.name.startswith("urllib3") or record.levelno >= logging.ERROR
        )

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _Plain(logging.Formatter):
    """A record's message without its traceback (the log file has it)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def setup_logging(log_file: str) -> str:
    """The terminal and the log file as the root logger's handlers (ours replaced, others kept);
    the log file's path, or "" when it cannot be written."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() in HANDLER_NAMES]:
        root.removeHandler(handler)
        handler.close()
    terminal = _Terminal()
    terminal.set_name(HANDLER_NAMES[0])
    terminal.setLevel(logging.WARNING)
    root.addHandler(terminal)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    if not log_file:
        return ""
    try:
        os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
        file = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
        )
    except OSError:
        return ""
    file.set_name(HANDLER_NAMES[1])
    file.setLevel(logging.INFO)
    file.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(file)
    return log_file
