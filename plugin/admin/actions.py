"""What the page and the JSON API both do: one function per action, errors as ``ActionError``.

Enabled on registers the broker (``plugin.sso.broker.ensure_broker``) and schedules the weekly run
(``plugin.runs.jobs.schedule_weekly``) and, when continuous updates are on, the next tick
(``plugin.runs.continuous``); off disables the identity provider (its mappers and every user's
link stay) and removes the scheduled weekly job and ticks. No data is deleted either way.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from keycloak.exceptions import KeycloakError
from rq.exceptions import NoSuchJobError

from model.base import SyncError
from model.state import IDP_ALIAS
from plugin.admin.services import Services
from plugin.config.store import SCHOOL_MODES
from plugin.runs import continuous, jobs, queues, takeover
from plugin.runs.changes import ChangeStore
from plugin.runs.progress import stage_label
from plugin.runs.standing import Standing, StandingStore
from plugin.runs.state import SyncState
from plugin.sso import links
from plugin.sso.broker import ensure_broker, get_idp
from plugin.sync import resolutions
from plugin.sync.report import warnings_by_kind
from plugin.sync.run_options import MANUAL
from plugin.sync.would_change import WouldChange

log = logging.getLogger(__name__)
SEARCH_LIMIT = 50


class ActionError(Exception):
    """A refusal or failure to show the admin as it is."""


class NotFound(ActionError):
    """No such run (of this district): the page and the API answer 404."""


def set_enabled(svc: Services, enabled: bool) -> str:
    store = svc.store()
    config = store.load()
    admin = svc.keycloak()
    if enabled:
        settings = svc.effective()
        if not settings.clever.client_id or not settings.clever.client_secret:
            raise ActionError("Enter the Clever app's client ID and secret before enabling.")
        try:
            report = ensure_broker(admin, settings)
        except SyncError as exc:
            raise ActionError(f"Clever could not be registered in Keycloak: {exc}") from exc
        if config.district_id:
            schedule = config.weekly_schedule(svc.settings.options.timezone)
            jobs.reschedule_weekly(settings, config.district_id, schedule)
        config.enabled = True
        store.save(config)
        if config.district_id:
            continuous.reschedule(svc.settings, config.district_id)  # when continuous updates are on
        message = "Enabled: Clever is registered in the realm" + ("" if report else " (no changes)")
    else:
        try:
            idp = get_idp(admin)
            if idp is not None and idp.get("enabled", True):
                admin.update_idp(IDP_ALIAS, {**idp, "enabled": False})
        except KeycloakError as exc:
            raise ActionError(f"Keycloak refused to disable the identity provider: {exc}") from exc
        if config.district_id:
            jobs.cancel_weekly(jobs.queue_for(svc.settings), config.district_id)
            continuous.cancel(jobs.queue_for(svc.settings), config.district_id)
        message = "Disabled: Clever logins and the weekly sync are off; all data is kept"
    config.enabled = enabled
    store.save(config)
    log.info("admin page: integration %s in realm %s", "enabled" if enabled else "disabled", svc.realm)
    return message


def save_clever_app(svc: Services, client_id: str, client_secret: str) -> str:
    """Keep the Clever app's client id; a non-empty secret replaces the stored one (encrypted)."""
    store = svc.store()
    config = store.load()
    config.clever_client_id = client_id.strip()
    store.save(config)
    if client_secret.strip():
        store.secrets.put("clever_client_secret", client_secret.strip())
    return "Clever app saved"


def search_schools(svc: Services, query: str) -> list[tuple[str, str]]:
    """Schools of the confirmed district whose name contains ``query`` (case-insensitive)."""
    config = svc.store().load()
    if not config.district_id:
        raise ActionError("Confirm your district with Login with Clever first.")
    wanted = query.casefold().strip()
    found: list[tuple[str, str]] = []
    try:
        for school in svc.clever().schools():
            if wanted in school.name.casefold():
                found.append((school.clever_id, school.name))
                if len(found) >= SEARCH_LIMIT:
                    break
    except SyncError as exc:
        raise ActionError(f"Clever did not answer the school search: {exc}") from exc
    return sorted(found, key=lambda item: item[1].casefold())


def set_schools(svc: Services, mode: str, school_ids: list[str]) -> str:
    """Mode ``all`` (every school of the district), or add ``school_ids`` found by name search."""
    store = svc.store()
    config = store.load()
    if not config.district_id:
        raise ActionError("Confirm your district with Login with Clever first.")
    if mode == "all":
        config.school_mode, config.schools = "all", {}
        store.save(config)
        return "Every school of the district will be synced"
    if mode != "search":
        raise ActionError(f"Unknown way to choose schools: {mode!r} (one of {', '.join(SCHOOL_MODES)})")
    names = dict(search_schools(svc, ""))
    unknown = [s for s in school_ids if s not in names]
    if unknown or not school_ids:
        raise ActionError("Pick one or more schools from the search results.")
    config.school_mode = "search"
    config.schools.update({s: names[s] for s in school_ids})
    store.save(config)
    return f"{len(school_ids)} school(s) added"


def remove_school(svc: Services, school_id: str) -> str:
    store = svc.store()
    config = store.load()
    name = config.schools.pop(school_id, None)
    store.save(config)
    return f"Removed {name}" if name else "That school was not selected"


def set_options(svc: Services, options: dict[str, bool]) -> str:
    store = svc.store()
    config = store.load()
    for name in (
        "match_users_by_name",
        "force_unique_class_names",
        "sync_parent_data",
        "use_preferred_names",
    ):
        setattr(config, name, bool(options.get(name, False)))
    store.save(config)
    return "Options saved"


def start_sync(svc: Services, started_by: str = "") -> tuple[str, bool]:
    """Queue a sync of the confirmed district: (run id, True), or the running run's id and False."""
    config = svc.store().load()
    if not config.district_id:
        raise ActionError("Confirm your district with Login with Clever before syncing.")
    if config.school_mode != "all" and not config.schools:
        raise ActionError("Choose the schools to sync first.")
    return jobs.trigger_sync(svc.effective(), config.district_id, replace(MANUAL, started_by=started_by))


def progress(svc: Services, run_id: str) -> dict[str, Any]:
    """A run's state for the live view: queued, running (with a count when the job reports one), done.

    ``job`` is the RQ job's state in words (``plugin.runs.takeover.job_state``), "unknown" once
    the job has expired (the stored report then says how the run ended). A run id that is neither
    a report of this district nor a queued job is ``NotFound``.
    """
    report = SyncState(svc.redis).report(run_id)
    if report is not None and report.district_id != svc.store().load().district_id:
        raise NotFound(f"No run {run_id} of this district.")
    answer: dict[str, Any] = {"run_id": run_id, "status": "queued", "done": 0, "total": 0}
    # The RQ job's state in plain words ("queued", "running", "failed", ...: ``takeover.job_state``).
    answer["job"] = takeover.job_state(svc.redis, run_id)
    try:
        job = queues.fetch(takeover.sync_job_id(run_id), svc.redis)
        # ``plugin.runs.jobs.JobProgress`` writes it while the job runs.
        progress = job.meta.get("progress") or {}
        answer.update({k: v for k, v in progress.items() if k in ("stage", "done", "total")})
        answer["stage_label"] = stage_label(str(answer.get("stage", ""))) if answer.get("stage") else ""
    except NoSuchJobError:
        if report is None:
            raise NotFound(f"No run {run_id} of this district.") from None
    if report is not None:
        answer["status"] = report.status
        answer["finished"] = report.status != "running"
    else:  # not started yet: the job's state says how it stands ("unknown": the job is gone)
        answer["status"] = answer["job"]
        answer["finished"] = answer["job"] in ("failed", "stopped", "canceled", "unknown")
    return answer


def status(svc: Services, limit: int = 10) -> dict[str, Any]:
    """The Sync Status summary: the running run, the held run, the history, the next weekly window."""
    settings = svc.settings
    config = svc.store().load()
    state = SyncState(svc.redis)
    district = config.district_id
    history = [r.to_dict() for r in state.history(district, limit)] if district else []
    held = state.held(district) if district else None
    schedule = config.weekly_schedule(settings.options.timezone)
    opens, closes = schedule.window_around(datetime.now(UTC))
    standing = StandingStore(svc.redis).load(district) if district else Standing()
    return {
        "district_id": district,
        "district_name": config.district_name,
        "standing": standing.to_dict(),
        "running": state.running(district) if district else None,
        "held": held.to_dict() if held else None,
        "held_changes": _summary(ChangeStore(svc.redis).of(held)) if held else None,
        "history": history,
        "resolutions": resolutions.load(svc.redis, svc.realm),
        "audit": links.audit_log(svc.redis, svc.realm),
        "next_window": {
            "timezone": schedule.timezone,
            "opens": opens.isoformat(),
            "closes": closes.isoformat(),
            "open_now": opens <= datetime.now(UTC) <= closes,
        },
    }


def _summary(changes: WouldChange, shown: int = 20) -> dict[str, Any]:
    """A held run's list for the summary: its totals in words and the first ``shown`` of each list."""
    return {
        "totals": changes.totals,
        "sentence": changes.sentence(),
        "people": changes.people[:shown],
        "classes": changes.classes[:shown],
        "retention": changes.retention[:shown],
    }


def run_detail(svc: Services, run_id: str) -> dict[str, Any]:
    """One run of the history: its report, and its warnings grouped by kind."""
    config = svc.store().load()
    report = SyncState(svc.redis).report(run_id)
    if report is None or report.district_id != config.district_id:
        raise NotFound(f"No run {run_id} of this district.")
    changes = ChangeStore(svc.redis).load(run_id)
    return {
        "report": report.to_dict(),
        "warning_groups": warnings_by_kind(report.warnings),
        "would_change": changes.to_dict() if changes else None,
    }
