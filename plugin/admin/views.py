"""The HTML page, step by step as the article: every form posts here and comes back to the page."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, session, url_for

from model.base import ConfigError
from plugin.admin import actions, decisions, held
from plugin.admin.actions import ActionError, NotFound
from plugin.admin.auth import refuse
from plugin.admin.blueprint import bp
from plugin.admin.console import console_links
from plugin.admin.continuous import freshness_status, set_continuous, set_retention
from plugin.admin.schedule import schedule_status, set_schedule, timezone_names
from plugin.admin.services import services
from plugin.admin.waiting import held_rows, labels, rule_rows
from plugin.config.secrets import hint
from plugin.config.store import CLIENT_SECRET, SCHOOL_MODES, district_token_name
from plugin.runs.audit import by_admin
from plugin.runs.changes import ChangeStore
from plugin.runs.standing import WAITING_KINDS, Standing
from plugin.sso.redirects import clever_redirect_uris
from plugin.sync.report import COUNTS, KINDS, SyncReport
from plugin.sync.resolutions import CREATE
from plugin.sync.would_change import WouldChange

LIST_SHOWN = 1000  # rows of each list on a run's page; the CSV has them all
OPTIONS = (
    (
        "match_users_by_name",
        "Match Users By Name",
        "Match your users by their first name and last name to their existing Keycloak or LDAP "
        "account. For example, if there is a student called “Jess Datos” with an account here, the "
        "sync matches first and last name in both systems and imports their contact details, classes "
        "and parents from Clever into that account.",
    ),
    (
        "force_unique_class_names",
        "Force Unique Class Names",
        "The internal ID and a unique name using the name of the class will be imported from Clever "
        "to ensure no classes have the same name. For example, a class named Classroom1 with the "
        "internal ID 12345 is imported as “Classroom1 - 12345”.",
    ),
    (
        "sync_parent_data",
        "Sync Parent Data",
        "This syncs the parent contact details and their relationship with the students.",
    ),
    (
        "use_preferred_names",
        "Use Preferred Names",
        "A student's preferred name from Clever is the first name shown here (the legal first name "
        "is kept beside it, visible to admins). Turn off to show the legal first name.",
    ),
)


def _back(anchor: str, run: str = "") -> Response:
    target = url_for("clever_admin.page", run=run) if run else url_for("clever_admin.page")
    return redirect(target + "#" + anchor)  # type: ignore[return-value]


def _done(anchor: str, action: Any, *args: Any) -> Response:
    """Run an action, flash its message (or its refusal), go back to the page at ``anchor``."""
    try:
        flash(str(action(services(), *args)), "ok")
    except NotFound:
        raise  # ``not_found``: 404
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
    return _back(anchor)


@bp.errorhandler(NotFound)
def not_found(exc: NotFound) -> Response:
    """An unknown run (or one of another district): 404, as a page or as JSON under ``api/``."""
    return refuse(404, str(exc))


@bp.get("/")
def page() -> str:
    """Configuration > Authentication > Clever."""
    svc = services()
    store = svc.store()
    config = store.load()
    query = request.args.get("q")
    results: list[tuple[str, str]] | None = None
    if query is not None:
        try:
            results = actions.search_schools(svc, query)
        except (ActionError, ConfigError) as exc:
            flash(str(exc), "error")
    status = actions.status(svc)
    last = status["history"][0] if status["history"] else None
    run_id = request.args.get("run") or status["running"]
    waiting = status["standing"]["waiting"]
    held, details = held_rows(svc, waiting, status["resolutions"])
    try:
        providers = decisions.realm_name_providers(svc)
    except ActionError as exc:
        flash(str(exc), "error")
        providers = {}
    return render_template(
        "clever_admin/page.html",
        user=g.admin_user,
        config=config,
        secret_hint=hint(store.client_secret()),
        secret_from_env=not store.secrets.get(CLIENT_SECRET) and bool(svc.settings.clever.client_secret),
        token_hint=store.secrets.hint(district_token_name(config.district_id)) if config.district_id else "",
        redirect_uris=clever_redirect_uris(svc.settings),
        pending=session.get("pending_district"),
        query=query,
        results=results,
        school_modes=SCHOOL_MODES,
        options=OPTIONS,
        status=status,
        last=last,
        accounts=labels(details),
        held=held,
        rules=rule_rows(waiting, held),
        name_providers=providers,
        settings_name_providers=svc.settings.options.admin_run_name_providers,
        standing=Standing.from_dict(status["standing"]),
        waiting_kinds=WAITING_KINDS,
        run=_progress(svc, run_id) if run_id else None,
        schedule=schedule_status(svc),
        freshness=freshness_status(svc),
        console=console_links(svc.settings),
        timezone_names=timezone_names(),
        kinds=KINDS,
        counts=COUNTS,
        create=CREATE,
    )


def _progress(svc: Any, run_id: str) -> dict[str, Any] | None:
    """The page's ``?run=``: its progress, or nothing for a run it does not know (a stale link)."""
    try:
        return actions.progress(svc, run_id)
    except NotFound:
        return None


@bp.post("/schedule")
def schedule() -> Response:
    """Save the weekly window (days, times, IANA zone)."""
    return _done("weekly", set_schedule, request.form.to_dict(), g.admin_user.username)


@bp.post("/continuous")
def continuous() -> Response:
    """Continuous updates on or off, and every how many minutes."""
    return _done("continuous", set_continuous, request.form.to_dict(), g.admin_user.username)


@bp.post("/retention")
def retention() -> Response:
    """The retention rule: on with a number of days, or off."""
    return _done("retention", set_retention, request.form.to_dict(), g.admin_user)


@bp.get("/runs/<run_id>")
def run_page(run_id: str) -> str | Response:
    """One run from the history: counts, who a held or dry run would change, warnings grouped by
    kind, skipped records, errors. 404 for a run that is not one of the district's."""
    detail = actions.run_detail(services(), run_id)
    changes = detail["would_change"]
    return render_template(
        "clever_admin/run.html",
        user=g.admin_user,
        kinds=KINDS,
        counts=COUNTS,
        changes=WouldChange.from_dict(changes) if changes else None,
        shown=LIST_SHOWN,
        **detail,
    )


@bp.get("/runs/<run_id>/would-change.csv")
def would_change_csv(run_id: str) -> Response:
    """Every person, class and membership a held or dry run would disable or remove, as CSV."""
    report = actions.run_detail(services(), run_id)["report"]
    changes = ChangeStore(services().redis).of(SyncReport.from_dict(report))
    response = Response(changes.csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="run-{run_id}-would-change.csv"'
    return response


@bp.get("/runs/<run_id>/approve")
def approve_confirm(run_id: str) -> str | Response:
    """Approve's confirmation step: what the held run would change, and a box to tick."""
    try:
        report, changes = held.held_run(services(), run_id)
    except NotFound:
        raise
    except ActionError as exc:
        flash(str(exc), "error")
        return _back("status")
    return render_template(
        "clever_admin/approve.html",
        user=g.admin_user,
        report=report.to_dict(),
        changes=changes,
        shown=LIST_SHOWN,
    )


@bp.post("/enabled")
def enabled() -> Response:
    return _done("enabled", actions.set_enabled, request.form.get("enabled") == "on")


@bp.post("/clever-app")
def clever_app() -> Response:
    form = request.form
    return _done(
        "clever-app", actions.save_clever_app, form.get("client_id", ""), form.get("client_secret", "")
    )


@bp.post("/schools")
def schools() -> Response:
    form = request.form
    return _done("schools", actions.set_schools, form.get("mode", ""), form.getlist("school_id"))


@bp.post("/schools/remove")
def schools_remove() -> Response:
    return _done("schools", actions.remove_school, request.form.get("school_id", ""))


@bp.post("/options")
def options() -> Response:
    chosen = {name: request.form.get(name) == "on" for name, _, _ in OPTIONS}
    return _done("options", actions.set_options, chosen)


@bp.post("/sync")
def sync() -> Response:
    try:
        run_id, queued = actions.start_sync(services(), by_admin(g.admin_user.username))
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
        return _back("sync")
    flash("Sync started." if queued else "A sync is already running; showing it.", "ok")
    return _back("sync", run=run_id)


@bp.post("/resolve")
def resolve() -> Response:
    form = request.form
    return _done(
        "waiting", decisions.resolve, form.get("clever_id", ""), form.get("choice", ""), g.admin_user
    )


@bp.post("/confirm-rule")
def confirm_rule() -> Response:
    """Confirm every waiting possible match of one rule, as the page showed it."""
    form = request.form
    try:
        count = int(form.get("count", ""))
    except ValueError:
        count = -1
    return _done("waiting", decisions.confirm_rule, form.get("rule", ""), count, g.admin_user)


@bp.post("/name-providers")
def name_providers() -> Response:
    """The identity providers whose names the district runs."""
    return _done("name-providers", decisions.set_name_providers, request.form.getlist("alias"), g.admin_user)


@bp.post("/links")
def link_decision() -> Response:
    """Keep or unlink a ``clever`` link the sync did not make."""
    form = request.form
    return _done(
        "status", decisions.decide_link, form.get("clever_id", ""), form.get("decision", ""), g.admin_user
    )


@bp.post("/runs/<run_id>/approve")
def approve(run_id: str) -> Response:
    """Apply a held run: only with the box ticked and the numbers the admin was shown."""
    form = request.form
    confirmed = held.parse_confirmation(form) if form.get("confirm") == "yes" else None
    try:
        if confirmed is None:
            raise ActionError("Not approved: tick the box to confirm what the run will change.")
        new_run, _ = held.approve(services(), run_id, confirmed, by_admin(g.admin_user.username))
    except NotFound:
        raise
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
        if str(exc) == held.NOT_HELD:
            return _back("status")
        return redirect(url_for("clever_admin.approve_confirm", run_id=run_id))  # type: ignore[return-value]
    flash("Approved: the held run is being applied.", "ok")
    return _back("sync", run=new_run)


@bp.post("/runs/<run_id>/discard")
def discard(run_id: str) -> Response:
    return _done("status", held.discard, run_id, by_admin(g.admin_user.username))
