"""The HTML page, step by step as the article: every form posts here and comes back to the page."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, session, url_for
from keycloak.exceptions import KeycloakError

from connectors.base import ConfigError
from plugin.admin import actions, decisions
from plugin.admin.actions import ActionError
from plugin.admin.blueprint import bp
from plugin.admin.services import services
from plugin.config.secrets import hint
from plugin.config.store import CLIENT_SECRET, SCHOOL_MODES, district_token_name
from plugin.runs.standing import WAITING_KINDS, Standing
from plugin.sso.redirects import clever_redirect_uris
from plugin.sync.report import COUNTS, KINDS
from plugin.sync.resolutions import CREATE

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
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
    return _back(anchor)


def _accounts(waiting: list[dict[str, Any]]) -> dict[str, str]:
    """Keycloak id -> "username (First Last)" for the accounts the waiting list names."""
    found: dict[str, str] = {}
    admin = services().keycloak()
    for item in waiting[:50]:
        named = [*item.get("candidates", []), *([item["keycloak_id"]] if item.get("keycloak_id") else [])]
        for keycloak_id in named:
            if keycloak_id in found:
                continue
            try:
                user = admin.get_user(keycloak_id)
            except KeycloakError:
                found[keycloak_id] = f"{keycloak_id} (gone)"
                continue
            name = " ".join(p for p in (user.get("firstName"), user.get("lastName")) if p)
            found[keycloak_id] = f"{user.get('username', keycloak_id)}" + (f" ({name})" if name else "")
    return found


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
        accounts=_accounts(status["standing"]["waiting"]),
        standing=Standing.from_dict(status["standing"]),
        waiting_kinds=WAITING_KINDS,
        run=actions.progress(svc, run_id) if run_id else None,
        kinds=KINDS,
        counts=COUNTS,
        create=CREATE,
    )


@bp.get("/runs/<run_id>")
def run_page(run_id: str) -> str | Response:
    """One run from the history: counts, warnings grouped by kind, skipped records, errors."""
    try:
        detail = actions.run_detail(services(), run_id)
    except ActionError as exc:
        flash(str(exc), "error")
        return _back("status")
    return render_template("clever_admin/run.html", user=g.admin_user, kinds=KINDS, counts=COUNTS, **detail)


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
        run_id, queued = actions.start_sync(services())
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
        return _back("sync")
    flash("Sync started." if queued else "A sync is already running; showing it.", "ok")
    return _back("sync", run=run_id)


@bp.post("/resolve")
def resolve() -> Response:
    form = request.form
    return _done("status", decisions.resolve, form.get("clever_id", ""), form.get("choice", ""), g.admin_user)


@bp.post("/links")
def link_decision() -> Response:
    """Keep or unlink a ``clever`` link the sync did not make."""
    form = request.form
    return _done(
        "status", decisions.decide_link, form.get("clever_id", ""), form.get("decision", ""), g.admin_user
    )


@bp.post("/runs/<run_id>/approve")
def approve(run_id: str) -> Response:
    try:
        new_run, _ = actions.approve(services(), run_id)
    except (ActionError, ConfigError) as exc:
        flash(str(exc), "error")
        return _back("status")
    flash("Approved: the held run is being applied.", "ok")
    return _back("sync", run=new_run)


@bp.post("/runs/<run_id>/discard")
def discard(run_id: str) -> Response:
    return _done("status", actions.discard, run_id)
