"""Login with Clever from the admin page: the district admin's login and the Clever Badge login.

* "Login with Clever" (purpose ``district``): OAuth to Clever; on return the page reads ``/me`` and the
  person with the user token, refuses anyone but a district admin, refuses a district other than the
  expected District ID when one was typed first, and shows the District ID and name to confirm.
  Confirming looks up the district-app token (client credentials) and keeps it encrypted.
* "Clever Badge log in" (purpose ``badge``): the person who logs in (a student with a badge, say)
  identifies the school: their primary school is added to the schools to sync.

The Clever user token is used within the request and never stored. Logs carry Clever ids only.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Response, flash, redirect, request, session, url_for

from model.base import SyncError
from model.records import Role, School
from plugin.admin.blueprint import bp
from plugin.admin.services import services
from plugin.config.store import confirm_district
from plugin.sso.redirects import admin_callback_uri

log = logging.getLogger(__name__)
PURPOSES = ("district", "badge")


def clever_redirect_uri() -> str:
    """Where Clever answers this page's logins (one of ``plugin.sso.redirects.clever_redirect_uris``)."""
    return admin_callback_uri(services().settings)


def _to_page(anchor: str) -> Response:
    return redirect(url_for("clever_admin.page") + "#" + anchor)  # type: ignore[return-value]


@bp.post("/clever/login")
def clever_login() -> Response:
    """Start an OAuth login at Clever for the district admin or for a badge."""
    purpose = request.form.get("purpose", "district")
    if purpose not in PURPOSES:
        purpose = "district"
    svc = services()
    config = svc.store().load()
    effective = svc.effective()
    if not effective.clever.client_id or not effective.clever.client_secret:
        flash("Enter the Clever app's client ID and secret first.", "error")
        return _to_page("clever-app")
    expected = request.form.get("expected_district_id", "").strip()
    if purpose == "badge" and not config.district_id:
        flash("Confirm your district with Login with Clever before using a Clever Badge.", "error")
        return _to_page("schools")
    state = secrets.token_urlsafe(24)
    session["clever_oauth"] = {"state": state, "purpose": purpose, "expected": expected}
    # The expected District ID is checked on return, not sent: the check must see what Clever says.
    district_hint = config.district_id if purpose == "badge" else None
    url = svc.clever().authorize_url(clever_redirect_uri(), state, district_id=district_hint)
    if purpose == "badge":
        url += "&prompt=login"  # the admin is still signed in to Clever: ask who is badging in
    return redirect(url)  # type: ignore[return-value]


@bp.get("/clever/callback")
def clever_callback() -> Response:
    """Clever's answer to either login."""
    pending = session.pop("clever_oauth", None)
    state = request.args.get("state", "")
    if not isinstance(pending, dict) or not hmac.compare_digest(state, str(pending.get("state", ""))):
        flash("That Clever login was not started from this page (or has expired). Try again.", "error")
        return _to_page("district")
    if "code" not in request.args:
        flash(f"Clever did not log you in ({request.args.get('error', 'no code')}).", "error")
        return _to_page("district")
    client = services().clever()
    try:
        tokens = client.exchange_code(request.args["code"], clever_redirect_uri())
        me = client.me(tokens.access_token)
        person = client.user(me.user_id, token=tokens.access_token)
        if pending["purpose"] == "badge":
            return _badge_login(me.district, person.schools if person else ())
        if person is None or Role.DISTRICT_ADMIN not in person.roles:
            flash(
                "Log in with a Clever district admin account: this account is not a district admin.", "error"
            )
            return _to_page("district")
        expected = str(pending.get("expected", ""))
        if expected and expected != me.district:
            log.info("admin page: Clever login for district %s refused (expected %s)", me.district, expected)
            flash(
                f"This Clever account belongs to district {me.district}, not the expected {expected}. "
                "Nothing was changed.",
                "error",
            )
            return _to_page("district")
        district = client.district(me.district, token=tokens.access_token)
    except SyncError as exc:
        flash(f"Clever login failed: {exc}", "error")
        return _to_page("district")
    session["pending_district"] = {"id": me.district, "name": district.name if district else ""}
    return _to_page("district")


def _badge_login(district_id: str, school_ids: tuple[str, ...]) -> Response:
    svc = services()
    store = svc.store()
    config = store.load()
    if district_id != config.district_id:
        flash("That Clever Badge belongs to another district. Nothing was changed.", "error")
        return _to_page("schools")
    if not school_ids:
        flash(
            "That Clever account has no school; use a student's or teacher's badge (if Clever signed "
            "you in as yourself without asking, log out of Clever first).",
            "error",
        )
        return _to_page("schools")
    school = svc.clever().one("schools", school_ids[0], School)
    config.school_mode = "badge"
    config.schools[school_ids[0]] = school.name if school else school_ids[0]
    store.save(config)
    flash(f"School added from the Clever Badge: {config.schools[school_ids[0]]}.", "ok")
    return _to_page("schools")


@bp.post("/district/confirm")
def district_confirm() -> Response:
    """The admin confirms the District ID shown after Login with Clever."""
    pending = session.pop("pending_district", None)
    if not isinstance(pending, dict) or request.form.get("district_id") != pending.get("id"):
        flash("Nothing to confirm: log in with Clever first.", "error")
        return _to_page("district")
    svc = services()
    store = svc.store()
    config = store.load()
    try:
        token = svc.clever().token_for(pending["id"])
    except SyncError as exc:
        flash(f"Clever has no district-app token for this district yet: {exc}", "error")
        return _to_page("district")
    config = confirm_district(store, pending["id"], pending["name"], token)
    log.info("admin page: district %s confirmed", config.district_id)
    flash(f"District confirmed: {config.district_name} ({config.district_id}).", "ok")
    return _to_page("schools")


@bp.post("/district/cancel")
def district_cancel() -> Response:
    session.pop("pending_district", None)
    flash("District not confirmed; nothing was changed.", "ok")
    return _to_page("district")
