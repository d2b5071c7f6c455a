"""The flags of one sync run, as one frozen value from the page, the CLI and the jobs to the pipeline.

``RunOptions`` is made once where a run is asked for (the admin page's Sync and Approve,
``keycloak-clever sync``, the weekly job, ``make demo``) and handed unchanged to
``plugin.runs.jobs.trigger_sync`` / ``sync_job`` / ``run_locked`` and ``plugin.sync.pipeline.run_sync``.
In an RQ job it travels as JSON (``to_json`` / ``from_json``: RQ jobs here are JSON only,
``plugin.runs.queues``).

Decisions: ``verify`` (read every member list from Keycloak) implies ``full`` (the whole roster, not
Clever's events since the cursor), as it always did in the CLI and the weekly run; approving a held run
(``approved``) is a full run with the brake released, from the page and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How one run reads, whether it writes, and what it is called in the history."""

    full: bool = False  # the whole roster, even with a saved event cursor
    dry_run: bool = False  # plan and report; write nothing
    trigger: str = "manual"  # manual, weekly, approve, demo, bench: shown in the history
    release_brake: bool = False  # apply even when the brake would hold the run
    verify: bool = False  # also read every group's members from Keycloak (implies ``full``)
    # Who or what asked for the run, in words for the history: "it-admin (admin page)",
    # "command line (root@host)", "weekly schedule" (``plugin.runs.audit``).
    started_by: str = ""

    def __post_init__(self) -> None:
        if self.verify and not self.full:
            object.__setattr__(self, "full", True)

    def approved(self, started_by: str = "") -> RunOptions:
        """The run that applies a held one: full, the brake released, called "approve"."""
        return replace(self, full=True, release_brake=True, trigger="approve", started_by=started_by)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunOptions:
        """The options of a job's JSON; an unknown key is an error (a job from another version)."""
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(data) - known):
            raise ValueError(f"unknown run options: {', '.join(unknown)}")
        return cls(**data)


MANUAL = RunOptions()  # the default run: incremental when it can be, writes, the brake on
