"""How a run shows its progress: the stages, and the terminal display of ``keycloak-clever sync``.

The pipeline calls ``progress(stage, done, total)``: ``reading`` (Clever, Keycloak and LDAP at
once; no count), ``planning`` (no count), then ``keycloak`` (Keycloak writes done of the plan's;
the LDAP group writes run beside them). An incremental run starts with ``events``. The RQ job
stores the latest call for the admin page's bar (``plugin.runs.jobs.JobProgress``); the CLI draws it
with ``ProgressDisplay``: on a terminal one line redrawn in place (stage, a bar, done of total,
rate, ETA), elsewhere plain lines (a stage's start, then at most every ``every`` seconds, and its
end), so a log file stays readable. ``--json`` writes its report to standard output only;
progress always goes to standard error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

STAGES = {
    "events": "reading Clever's events",
    "reading": "reading Clever, Keycloak and LDAP",
    "planning": "planning",
    "keycloak": "writing to Keycloak and LDAP",
}
BAR = 28
# An RQ job's status in the words the progress API answers (``job``).


def stage_label(stage: str) -> str:
    return STAGES.get(stage, stage)


def eta_text(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressDisplay:
    """``progress(stage, done, total)`` drawn on ``stream`` (a bar on a terminal, else lines)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        every: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = tty
        self.every = every
        self.now = now
        self._stage = ""
        self._started = 0.0
        self._printed = float("-inf")
        self._open_line = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        moment = self.now()
        new_stage = stage != self._stage
        if new_stage:
            self._stage, self._started = stage, moment
        line = self.line(stage, done, total, moment - self._started)
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self._open_line = True
        elif new_stage or (total and done >= total) or moment - self._printed >= self.every:
            self.stream.write(line + "\n")
            self._printed = moment
        self.stream.flush()

    def close(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False

    @staticmethod
    def line(stage: str, done: int, total: int, elapsed: float) -> str:
        """One line: stage, then for a counted stage a bar, done/total, rate and ETA."""
        label = f"{stage_label(stage):<34}"
        if not total:
            return f"{label} {eta_text(elapsed)} elapsed"
        share = min(1.0, done / total)
        filled = int(share * BAR)
        bar = "#" * filled + "-" * (BAR - filled)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"ETA {eta_text((total - done) / rate)}" if rate > 0 and done < total else "ETA -"
        if done >= total:
            eta = f"done in {eta_text(elapsed)}"
        return f"{label} [{bar}] {done}/{total} {rate:,.0f}/s {eta}"
