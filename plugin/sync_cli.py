"""``keycloak-clever sync`` and ``keycloak-clever status``.

``sync`` runs in this process under the district's lock (a running sync answers with its id),
shows a progress bar in a terminal, prints the Sync Status summary (``--json``: the report).
Both run with what the admin page set for the realm (its Clever app, district, options and chosen
schools: ``plugin.jobs.page_choices``), so a run here and the page's Sync do the same.
``--queue`` hands the run to the RQ worker instead. ``--verify`` is a full run that also reads every
group's members from Keycloak (see ``plugin.applied``). ``--approve RUN`` / ``--discard RUN`` decide a
run the brake held for review.

Exit codes: 0 when the run ended ``ok``, ``no-changes``, ``dry-run`` or ``held``; 1 when it ended
``partial`` (some writes failed: the summary lists them) or could not run at all.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import click

from plugin.cli import load_settings
from plugin.jobs import page_choices, run_locked, trigger_sync
from plugin.report import SyncReport
from plugin.state import SyncState


@click.command()
@click.option("--full", is_flag=True, help="Read the whole roster even when an event cursor is saved.")
@click.option("--dry-run", is_flag=True, help="Plan and report; write nothing.")
@click.option(
    "--verify", is_flag=True, help="Read every group's members from Keycloak (finds changes made by hand)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
@click.option("--approve", metavar="RUN", help="Apply a run held for review, brake released.")
@click.option("--discard", metavar="RUN", help="Drop a run held for review.")
@click.option(
    "--district", default="", help="Clever district id (default: the page's, else KCC_CLEVER_DISTRICT_ID)."
)
@click.option(
    "--queue", "queued", is_flag=True, help="Queue the run for the worker instead of running it here."
)
def sync(
    full: bool,
    dry_run: bool,
    verify: bool,
    as_json: bool,
    approve: str | None,
    discard: str | None,
    district: str,
    queued: bool,
) -> None:
    """Sync the district's Clever roster into Keycloak and LDAP now (with the admin page's settings)."""
    page = page_choices(load_settings())
    settings = page.settings
    district_id = district or settings.clever.district_id
    if not district_id:
        raise click.ClickException(
            "no district: confirm it on the admin page, pass --district or set KCC_CLEVER_DISTRICT_ID"
        )
    state = SyncState.from_url(settings.redis_url)
    trigger = "manual"
    if discard or approve:
        run_id = discard or approve or ""
        held = state.report(run_id)
        if held is None or not state.release_hold(district_id, run_id):
            raise click.ClickException(f"run {run_id} is not held for review")
        held.status = "discarded" if discard else "approved"
        state.save(held)
        if discard:
            _print(held, as_json)
            return
        trigger, full = "approve", True
    if queued:
        run_id, fresh = trigger_sync(
            settings,
            district_id,
            full=full or verify,
            dry_run=dry_run,
            trigger=trigger,
            release_brake=bool(approve),
            verify=verify,
        )
        click.echo(f"{'queued' if fresh else 'already running'}: run {run_id}")
        return
    run_id = uuid.uuid4().hex[:12]
    running = state.acquire(district_id, run_id)
    if running is not None:
        raise click.ClickException(f"a sync of this district is already running: run {running}")
    try:
        with _Progress(enabled=sys.stderr.isatty() and not as_json) as progress:
            report = run_locked(
                settings,
                state,
                district_id,
                run_id,
                full=full or verify,
                dry_run=dry_run,
                trigger=trigger,
                release_brake=bool(approve),
                verify=verify,
                progress=progress,
                school_ids=page.school_ids,
            )
    finally:
        state.release(district_id, run_id)
    _print(report, as_json)
    if report.status == "held":
        click.echo(
            f"held for review: keycloak-clever sync --approve {report.run_id}  (or --discard)", err=True
        )
    if report.status == "partial":
        click.echo(f"partial: {len(report.errors)} write(s) failed; see the errors above", err=True)
        sys.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option(
    "--district", default="", help="Clever district id (default: the page's, else KCC_CLEVER_DISTRICT_ID)."
)
@click.option("--limit", default=5, show_default=True, help="How many past runs.")
def status(as_json: bool, district: str, limit: int) -> None:
    """The Sync Status summary: the running run, a held run, the latest runs."""
    settings = page_choices(load_settings()).settings
    district_id = district or settings.clever.district_id
    state = SyncState.from_url(settings.redis_url)
    held = state.held(district_id)
    runs = state.history(district_id, limit)
    if as_json:
        payload: dict[str, Any] = {
            "district_id": district_id,
            "running": state.running(district_id),
            "held": held.to_dict() if held else None,
            "runs": [r.to_dict() for r in runs],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if running := state.running(district_id):
        click.echo(f"running: {running}")
    if held:
        click.echo(f"held for review: {held.run_id}: " + "; ".join(held.brake.get("reasons", [])))
    if not runs:
        click.echo("no sync has run yet")
    for report in runs:
        click.echo(report.summary())


def _print(report: SyncReport, as_json: bool) -> None:
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.summary())


class _Progress:
    """A click progress bar fed by the pipeline's ``progress(stage, done, total)`` callback."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=f"writing to {stage}", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done
