"""The error taxonomy every connector converts its library's exceptions into.

Three kinds, after authentik's outgoing-sync exceptions:

* ``TransientError``: network trouble, 5xx, 429, timeouts. Retry with backoff; if retries run out
  the run aborts and removes nothing.
* ``RecordError``: one record cannot be synced (no name, dangling reference, a name the target
  rejects). It goes into the report and the run goes on.
* ``ConfigError``: the configuration or the credentials are wrong. Abort the run.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of the three kinds below."""


class TransientError(SyncError):
    """A failure that may pass: retry with backoff."""


class RecordError(SyncError):
    """One bad record: report it, skip it, go on."""

    def __init__(self, message: str, *, kind: str = "", clever_id: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.clever_id = clever_id


class ConfigError(SyncError):
    """Wrong configuration or credentials: abort."""
