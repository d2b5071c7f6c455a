"""A run the brake held: Approve (only with the confirmation of what it would change) or Discard.

Approving repeats what the held run would do ("disable 25 people, retire 2 classes and remove 130
memberships", ``plugin.sync.would_change``) and applies only when the admin confirms those exact
numbers: on the page by ticking a box on the confirmation page (``GET runs/<id>/approve``; the
numbers travel in the form, the server compares them with the held run's), in the JSON API with
``{"people": 25, "classes": 2, "memberships": 130}``, on the command line by answering the prompt
(or ``--yes``). Numbers that no longer match (a stale page) are refused: nothing is applied.

Approving runs the sync again, in full, with the brake released (``RunOptions.approved``): it
applies the roster as it is then, which is what was listed unless Clever changed in between.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin.admin.actions import ActionError, NotFound
from plugin.admin.services import Services
from plugin.runs import jobs
from plugin.runs.changes import ChangeStore
from plugin.runs.state import SyncState
from plugin.sync.report import SyncReport
from plugin.sync.run_options import MANUAL
from plugin.sync.would_change import WouldChange

NOT_HELD = "That run is not waiting for review any more."


def held_run(svc: Services, run_id: str) -> tuple[SyncReport, WouldChange]:
    """The district's run ``run_id`` and what it would change; ``NotFound`` when it is not one of its
    runs, ``ActionError`` when it is not held (any more)."""
    config = svc.store().load()
    state = SyncState(svc.redis)
    report = state.report(run_id)
    if report is None or report.district_id != config.district_id:
        raise NotFound(f"No run {run_id} of this district.")
    held = state.held(config.district_id)
    if held is None or held.run_id != run_id:
        raise ActionError(NOT_HELD)
    return report, ChangeStore(svc.redis).of(report)


def parse_confirmation(values: Mapping[str, object]) -> dict[str, int] | None:
    """``people``, ``classes``, ``memberships`` as whole numbers (form fields or JSON), and
    ``deleted`` and ``unlinked`` (retention) when given and not zero; else None."""
    found: dict[str, int] = {}
    for name in ("people", "classes", "memberships", "deleted", "unlinked"):
        value = values.get(name)
        if value is None and name in ("deleted", "unlinked"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        try:
            found[name] = int(value)
        except ValueError:
            return None
    return {name: n for name, n in found.items() if n or name not in ("deleted", "unlinked")}


def approve(svc: Services, run_id: str, confirmed: Mapping[str, int] | None, by: str) -> tuple[str, bool]:
    """Apply the held run ``run_id`` if ``confirmed`` repeats its totals; (new run id, queued)."""
    report, changes = held_run(svc, run_id)
    if confirmed is None or dict(confirmed) != changes.confirmation:
        raise ActionError(
            f"Not approved: confirm that this run may {changes.sentence()} (the numbers you confirmed "
            "are not the held run's). Nothing was applied."
        )
    state = SyncState(svc.redis)
    if not state.release_hold(report.district_id, run_id):
        raise ActionError(NOT_HELD)
    _decide(state, report, "approved", by)
    return jobs.trigger_sync(
        svc.effective(), report.district_id, MANUAL.approved(started_by=f"{by}, approving run {run_id}")
    )


def discard(svc: Services, run_id: str, by: str) -> str:
    report, _ = held_run(svc, run_id)
    state = SyncState(svc.redis)
    if not state.release_hold(report.district_id, run_id):
        raise ActionError(NOT_HELD)
    _decide(state, report, "discarded", by)
    return "The held run was discarded; nothing was written"


def _decide(state: SyncState, report: SyncReport, status: str, by: str) -> None:
    report.status, report.decided_by = status, by
    state.save(report)
