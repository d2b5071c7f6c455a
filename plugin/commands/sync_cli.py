"""``keycloak-clever sync`` and ``keycloak-clever status``.

``sync`` runs in this process under the district's lock (a running sync answers with its id),
shows its progress on standard error (a bar on a terminal, plain lines elsewhere:
``plugin.runs.progress``), prints the Sync Status summary (``--json``: the report).
Both run with what the admin page set for the realm (its Clever app, district, options and chosen
schools: ``plugin.runs.jobs.page_choices``), so a run here and the page's Sync do the same.
``--queue`` hands the run to the RQ worker instead. ``--verify`` is a full run that also reads every
group's members from Keycloak (see ``plugin.sync.applied``). ``--approve RUN`` / ``--discard RUN`` decide a
run the brake held for review.

Exit codes (``EXIT_CODES``): 0 ok, no changes, dry run, discarded; 1 failed, or refused (another run
holds the district, no district, a run that is not held, a service that cannot be reached), with one
line saying why; 2 partial (some records failed: the report lists them); 3 held for review; 4 a dry
run that a real run would see held (``HELD_DRY_RUN``: the brake would stop it). A failed run still
prints its report (``--json``: as JSON), the one ``run_locked`` stored.

A held run and a dry run also say who they would disable or remove: ``--json`` adds
``"would_change": {"people": [...], "classes": [...], "memberships": [...], "totals": {...}}``
(``plugin.sync.would_change``). ``--approve RUN`` repeats those totals and asks before it applies
them (``--yes`` answers for a script that has read them); every run records who started it
("command line (user@host)", ``plugin.runs.audit``).
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import click

from plugin.commands.context import load_settings
from plugin.runs import continuous, takeover
from plugin.runs.audit import by_command_line
from plugin.runs.changes import ChangeStore
from plugin.runs.jobs import page_choices, run_locked, state_for, trigger_sync
from plugin.runs.progress import ProgressDisplay
from plugin.runs.standing import Standing, StandingStore
from plugin.runs.state import SyncState
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from plugin.sync.would_change import WouldChange

# The exit code of ``sync`` by the run's status: a script or cron job can tell them apart.
EXIT_CODES = {"ok": 0, "no-changes": 0, "dry-run": 0, "discarded": 0, "failed": 1, "partial": 2, "held": 3}
HELD_DRY_RUN = 4  # a dry run whose plan the brake would hold


def exit_code(report: SyncReport) -> int:
    if report.status == "dry-run" and report.brake.get("held"):
        return HELD_DRY_RUN
    return EXIT_CODES.get(report.status, 1)


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
@click.option("--yes", is_flag=True, help="With --approve: apply without asking (the totals are printed).")
def sync(
    full: bool,
    dry_run: bool,
    verify: bool,
    as_json: bool,
    approve: str | None,
    discard: str | None,
    district: str,
    queued: bool,
    yes: bool,
) -> None:
    """Sync the district's Clever roster into Keycloak and LDAP now (with the admin page's settings)."""
    page = page_choices(load_settings())
    settings = page.settings
    district_id = district or settings.clever.district_id
    if not district_id:
        raise click.ClickException(
            "no district: confirm it on the admin page, pass --district or set KCC_CLEVER_DISTRICT_ID"
        )
    state = state_for(settings)
    who = by_command_line()
    run = RunOptions(full=full, dry_run=dry_run, verify=verify, started_by=who)
    if discard or approve:
        held = _decide(state, district_id, discard or approve or "", approved=bool(approve), yes=yes)
        if discard:
            _print(held, as_json)
            return
        run = run.approved(started_by=f"{who}, approving run {held.run_id}")
    if queued:
        run_id, fresh = trigger_sync(settings, district_id, run)
        if not fresh:
            raise click.ClickException(f"a sync of this district is already running: run {run_id}")
        click.echo(f"queued: run {run_id}")
        return
    run_id = uuid.uuid4().hex[:12]
    # A lease from the start, as a job's (``plugin.runs.takeover``: a run that died is taken over).
    running = takeover.acquire(state, district_id, run_id, ttl=state.lease_s)
    if running is not None:
        raise click.ClickException(f"a sync of this district is already running: run {running}")
    try:
        display = ProgressDisplay(sys.stderr, tty=sys.stderr.isatty())
        try:
            report = run_locked(
                settings,
                state,
                district_id,
                run_id,
                run,
                progress=display,
                school_ids=page.school_ids,
            )
        except Exception:  # the run failed; its report (stored by run_locked) says why
            failed = state.report(run_id)
            if failed is None:
                raise
            report = failed
        finally:
            display.close()
    finally:
        state.release(district_id, run_id)
    _print(report, as_json)
    if report.status == "held":
        click.echo(
            f"held for review: keycloak-clever sync --approve {report.run_id}  (or --discard)", err=True
        )
    if exit_code(report) == HELD_DRY_RUN:
        click.echo("a real run would be held for review: " + "; ".join(report.brake["reasons"]), err=True)
    if report.status == "partial":
        click.echo(f"partial: {len(report.errors)} write(s) failed; see the errors above", err=True)
    sys.exit(exit_code(report))


def _decide(state: SyncState, district_id: str, run_id: str, *, approved: bool, yes: bool) -> SyncReport:
    """Approve (after ``_confirm``) or discard the district's held run ``run_id``; its report."""
    held = state.held(district_id)
    if held is None or held.run_id != run_id:
        raise click.ClickException(f"run {run_id} is not held for review")
    held.would_change = ChangeStore(state.redis).of(held)
    if approved:
        _confirm(held.would_change, run_id, yes)
    if not state.release_hold(district_id, run_id):
        raise click.ClickException(f"run {run_id} is not held for review")
    held.status, held.decided_by = ("approved" if approved else "discarded"), by_command_line()
    state.save(held)
    return held


def _confirm(changes: WouldChange, run_id: str, yes: bool) -> None:
    """Repeat what the held run would change; go on only when the person (or ``--yes``) says so."""
    sentence = f"Approving run {run_id} will {changes.sentence()}."
    click.echo(sentence, err=True)
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.ClickException("not approved: add --yes to approve without a terminal to ask on")
    if not click.confirm("Apply it?", default=False, err=True):
        raise click.ClickException("not approved: nothing was applied")


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
    running = state.running(district_id)
    held = state.held(district_id)
    runs = state.history(district_id, limit)
    standing = StandingStore(state.redis).load(district_id)
    fresh = continuous.status(settings, district_id, state)
    if as_json:
        payload: dict[str, Any] = {
            "district_id": district_id,
            "freshness": fresh,
            "standing": standing.to_dict(),
            "running": running,
            "running_state": takeover.run_state(state, running) if running else None,
            "held": held.to_dict() if held else None,
            "held_would_change": ChangeStore(state.redis).of(held).to_dict() if held else None,
            "runs": [r.to_dict() for r in runs],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if running:
        click.echo(f"running: {running} ({takeover.run_state(state, running)})")
    if held:
        click.echo(f"held for review: {held.run_id}: " + "; ".join(held.brake.get("reasons", [])))
        click.echo(f"  approving it would {ChangeStore(state.redis).of(held).sentence()} (--json lists who)")
    click.echo(standing_summary(standing))
    click.echo(freshness_summary(fresh))
    if not runs:
        click.echo("no sync has run yet")
    for report in runs:
        click.echo(report.summary())


def freshness_summary(fresh: dict[str, Any]) -> str:
    """How fresh the realm is, continuous updates and the retention rule, as the page says them."""
    lines = [f"{fresh['applied_words']}; {fresh['checked_words']}"]
    if fresh["continuous"]:
        state = f"on, every {fresh['every']}" + (f", next {fresh['next_tick']}" if fresh["next_tick"] else "")
        if fresh["paused_by"]:
            state += f" (paused: run {fresh['paused_by']} waits for review)"
        lines.append(
            f"continuous updates: {state}" + (f"; {fresh['tick_words']}" if fresh["tick_words"] else "")
        )
    else:
        lines.append("continuous updates: off (the weekly window and Sync)")
    lines.append(f"retention {'on' if fresh['retention_days'] else 'off'}: {fresh['retention_words']}")
    return "\n".join(lines)


def standing_summary(standing: Standing) -> str:
    """What is synced now and who is waiting, as the admin page shows it."""
    if not standing.last_applied:
        return "synced now: nothing yet"
    people = ", ".join(f"{kind} {n}" for kind, n in standing.people.items())
    groups = ", ".join(f"{kind} {n}" for kind, n in standing.groups.items())
    lines = [f"synced now: {people}; groups: {groups}"]
    for title, run in (("last full run", standing.last_full), ("last verify run", standing.last_verify)):
        lines.append(
            f"{title}: " + (f"{run['run_id']} ({run['ended']}, {run['status']})" if run else "none yet")
        )
    grouped = standing.waiting_by_kind()
    counts = ", ".join(f"{kind} {len(items)}" for kind, items in grouped.items())
    lines.append(f"waiting: {len(standing.waiting)}" + (f" ({counts})" if counts else ""))
    for kind, items in grouped.items():
        for item in items[:20]:
            action = f" -> {item['action']}" if item.get("action") else ""
            lines.append(f"  {kind} {item['clever_id']}: {item['reason']}{action}")
        if len(items) > 20:
            lines.append(f"  ... and {len(items) - 20} more {kind} (--json)")
    return "\n".join(lines)


def _print(report: SyncReport, as_json: bool) -> None:
    """The report (``--json``: as JSON, with who a held or dry run would change)."""
    if not as_json:
        click.echo(report.summary())
        return
    data = report.to_dict()
    if report.would_change is not None:
        data["would_change"] = report.would_change.to_dict()
    click.echo(json.dumps(data, indent=2))
