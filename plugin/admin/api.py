"""The JSON API: the page's actions for scripts, behind the same sign-in (session or bearer token).

All under ``{prefix}/api/``; bodies and answers are JSON; refusals are ``{"error": "..."}`` with
400 (bad request or refused action), 401 (not signed in / token refused) or 403 (not allowed).
Secrets are written, never read back: answers carry at most their last four characters.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, g, jsonify, request

from model.base import ConfigError
from plugin.admin import actions, decisions, held
from plugin.admin.actions import ActionError, NotFound
from plugin.admin.blueprint import bp
from plugin.admin.continuous import freshness_status, set_continuous, set_retention
from plugin.admin.schedule import schedule_status, set_schedule
from plugin.admin.services import services
from plugin.config.store import district_token_name
from plugin.runs.audit import VIA_API, by_admin
from plugin.runs.standing import StandingStore
from plugin.sync import resolutions


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _answer(action: Any, *args: Any, status: int = 200) -> Response:
    try:
        result = action(services(), *args)
    except NotFound:
        raise  # ``plugin.admin.views.not_found``: 404 ``{"error": ...}``
    except (ActionError, ConfigError) as exc:
        response = jsonify({"error": str(exc)})
        response.status_code = 400
        return response
    response = jsonify(result if isinstance(result, dict) else {"message": result})
    response.status_code = status
    return response


def _config(svc: Any) -> dict[str, Any]:
    store = svc.store()
    config = store.load()
    return {
        **config.to_dict(),
        "school_ids": list(config.school_ids),
        "clever_client_secret_hint": store.client_secret_hint(),
        "district_token_hint": store.secrets.hint(district_token_name(config.district_id))
        if config.district_id
        else "",
    }


@bp.get("/api/config")
def api_config() -> Response:
    """The page's settings (secrets as hints only)."""
    return _answer(_config)


@bp.post("/api/enabled")
def api_enabled() -> Response:
    """``{"enabled": true|false}``."""
    return _answer(actions.set_enabled, bool(_body().get("enabled")))


@bp.post("/api/clever-app")
def api_clever_app() -> Response:
    """``{"client_id": "...", "client_secret": "..."}`` (the secret is optional: kept when left out)."""
    body = _body()
    return _answer(
        actions.save_clever_app, str(body.get("client_id", "")), str(body.get("client_secret", ""))
    )


@bp.get("/api/schools")
def api_schools_search() -> Response:
    """``?q=name``: schools of the confirmed district whose name contains it."""
    query = request.args.get("q", "")
    return _answer(
        lambda svc: {"schools": [{"id": i, "name": n} for i, n in actions.search_schools(svc, query)]}
    )


@bp.post("/api/schools")
def api_schools() -> Response:
    """``{"mode": "all"}`` or ``{"mode": "search", "school_ids": [...]}``."""
    body = _body()
    ids = [str(s) for s in body.get("school_ids", []) if isinstance(s, str)]
    return _answer(actions.set_schools, str(body.get("mode", "")), ids)


@bp.delete("/api/schools/<school_id>")
def api_school_remove(school_id: str) -> Response:
    return _answer(actions.remove_school, school_id)


@bp.post("/api/options")
def api_options() -> Response:
    """``{"match_users_by_name": bool, "force_unique_class_names": bool, "sync_parent_data": bool,
    "use_preferred_names": bool}``;
    options left out keep their current value."""
    body = _body()

    def merge(svc: Any) -> str:
        current = svc.store().load().to_dict()
        names = ("match_users_by_name", "force_unique_class_names", "sync_parent_data", "use_preferred_names")
        return actions.set_options(svc, {n: bool(body.get(n, current[n])) for n in names})

    return _answer(merge)


@bp.post("/api/sync")
def api_sync() -> Response:
    """Queue a sync: 202 ``{"run_id": ..., "queued": true}`` (false: one is already running)."""

    def start(svc: Any) -> dict[str, Any]:
        run_id, queued = actions.start_sync(svc, by_admin(g.admin_user.username, VIA_API))
        return {"run_id": run_id, "queued": queued}

    return _answer(start, status=202)


@bp.get("/api/runs/<run_id>/progress")
def api_progress(run_id: str) -> Response:
    """The live state of one run (polled by the page's script)."""
    return _answer(actions.progress, run_id)


@bp.get("/api/status")
def api_status() -> Response:
    """The Sync Status summary: history (reports), held run, pending resolutions, next window, the
    weekly schedule with the last and next weekly run, and ``freshness`` (continuous updates, the
    lag, the retention rule: ``plugin.admin.continuous``)."""
    return _answer(
        lambda svc: {
            **actions.status(svc),
            "schedule": schedule_status(svc),
            "freshness": freshness_status(svc),
        }
    )


@bp.post("/api/continuous")
def api_continuous() -> Response:
    """``{"continuous": true, "minutes": 2}``: continuous updates on (every ``minutes``) or off."""
    body = _body()
    values = {"continuous": "on" if body.get("continuous") is True else "", "minutes": body.get("minutes")}
    return _answer(set_continuous, values, g.admin_user.username)


@bp.post("/api/retention")
def api_retention() -> Response:
    """``{"days": 30}`` (retention on) or ``{"days": 0}`` (off); realm admin."""
    days = _body().get("days")
    values = {"retention": "on" if days else "", "days": days}
    return _answer(set_retention, values, g.admin_user)


@bp.post("/api/schedule")
def api_schedule() -> Response:
    """``{"start_day": 5, "start": "00:01", "end_day": 6, "end": "23:59", "timezone": "America/Chicago"}``
    (days 0 = Monday, or day names); 400 ``{"error"}`` for a bad day, time or zone."""
    return _answer(set_schedule, _body(), g.admin_user.username)


@bp.get("/api/runs/<run_id>")
def api_run(run_id: str) -> Response:
    """One run of the history: ``{"report": {...}, "warning_groups": [...]}``."""
    return _answer(actions.run_detail, run_id)


@bp.post("/api/resolutions")
def api_resolve() -> Response:
    """``{"clever_id": "...", "choice": "<keycloak user id>" | "create"}``."""
    body = _body()
    clever_id, choice = str(body.get("clever_id", "")), str(body.get("choice", ""))
    return _answer(decisions.resolve, clever_id, choice, g.admin_user)


@bp.get("/api/rules")
def api_rules() -> Response:
    """The rules that confirm waiting possible matches in bulk: ``{"rules": [{"key", "words",
    "members": [[clever_id, keycloak_id], ...], "reasons"}]}`` (ids only: names are the page's)."""

    def listed(svc: Any) -> dict[str, Any]:
        district = svc.store().load().district_id
        waiting = StandingStore(svc.redis).load(district).waiting if district else []
        return {"rules": [asdict(rule) for rule in resolutions.rules(waiting)]}

    return _answer(listed)


@bp.post("/api/rules/confirm")
def api_confirm_rule() -> Response:
    """``{"rule": "<key>", "count": <people the rule listed>}``: one resolution per person."""
    body = _body()
    count = body.get("count")
    return _answer(
        decisions.confirm_rule,
        str(body.get("rule", "")),
        count if isinstance(count, int) else -1,
        g.admin_user,
    )


@bp.post("/api/name-providers")
def api_name_providers() -> Response:
    """``{"aliases": ["google", ...]}``: the identity providers whose names the district runs."""
    aliases = _body().get("aliases")
    listed = [str(a) for a in aliases] if isinstance(aliases, list) else []
    return _answer(decisions.set_name_providers, listed, g.admin_user)


@bp.post("/api/links")
def api_link() -> Response:
    """``{"clever_id": "...", "decision": "keep" | "unlink"}`` for a suspicious link."""
    body = _body()
    clever_id, decision = str(body.get("clever_id", "")), str(body.get("decision", ""))
    return _answer(decisions.decide_link, clever_id, decision, g.admin_user)


@bp.post("/api/runs/<run_id>/approve")
def api_approve(run_id: str) -> Response:
    """``{"people": n, "classes": n, "memberships": n}``: what the held run would disable or remove
    (its ``would_change.totals``), confirmed; other numbers are refused (400), nothing applied."""
    confirmed = held.parse_confirmation(_body())
    by = by_admin(g.admin_user.username, VIA_API)

    def run(svc: Any) -> dict[str, Any]:
        new_run, queued = held.approve(svc, run_id, confirmed, by)
        return {"run_id": new_run, "queued": queued}

    return _answer(run, status=202)


@bp.post("/api/runs/<run_id>/discard")
def api_discard(run_id: str) -> Response:
    return _answer(held.discard, run_id, by_admin(g.admin_user.username, VIA_API))
