"""Clever's browser session: once signed in, ``/oauth/authorize`` from the same browser is silent.

Signing in on the login page (a person or a badge) or through a portal Instant Login link sets the
``clever_sandbox_session`` cookie (HttpOnly, SameSite=Lax, no expiry: it lasts as long as the browser
session). Its value is a random id the sandbox keeps (``SandboxState.sessions``); a cookie from another
sandbox or from before a restart is simply not signed in. ``GET /logout`` ends it ("switch user");
``?next=/a/relative/path`` goes on there afterwards.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, render_template, request

from sandbox.data_api import state
from sandbox.state import SandboxState, Session

bp = Blueprint("sessions", __name__)
COOKIE = "clever_sandbox_session"


def current_session(st: SandboxState) -> Session | None:
    """Who this browser is signed in to Clever as, if anyone."""
    return st.signed_in(request.cookies.get(COOKIE, ""))


def signed_in_response(st: SandboxState, response: Response, user_id: str, role: str = "") -> Response:
    """``response`` with the browser signed in as ``user_id`` (replacing any earlier session)."""
    st.sign_out(request.cookies.get(COOKIE, "") or "-")
    session_id = st.sign_in(user_id, role)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="Lax", path="/")
    return response


def logout_link() -> str:
    """``/logout`` leading back to this page (the login page then shows the picker)."""
    return f"/logout?{urlencode({'next': request.full_path.rstrip('?')})}"


def _safe_next(target: str) -> str:
    """Only a path of this sandbox (no scheme, no host) may follow a logout."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return ""
    return target


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """Sign this browser out of Clever; the next ``/oauth/authorize`` shows the picker again."""
    st = state()
    st.sign_out(request.cookies.get(COOKIE, "") or "-")
    target = _safe_next(request.values.get("next", ""))
    answer: Response = redirect(target, code=302) if target else Response(render_template("logout.html"))  # type: ignore[assignment]
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax")
    return answer
