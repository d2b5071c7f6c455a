"""Input the admin routes refuse before any work: a run id that is not one of ours is a 400.

Registered after ``auth.guard`` (``before_request`` order is import order, see ``plugin.admin``),
so an anonymous caller still gets 401 or the sign-in redirect, never a hint about ids.
"""

from __future__ import annotations

from flask import Response, request

from plugin.admin.auth import refuse
from plugin.admin.blueprint import bp
from plugin.config.hardening import valid_run_id


@bp.before_request
def check_run_id() -> Response | None:
    """``/runs/<run_id>…`` and the page's ``?run=``: only ``[A-Za-z0-9-]`` (``plugin.config.hardening``)."""
    candidates = [str((request.view_args or {}).get("run_id", "") or "")]
    candidates.append(request.args.get("run", ""))
    if any(value and not valid_run_id(value) for value in candidates):
        return refuse(400, "that is not a run id (letters, digits and '-' only)")
    if "run_id" in (request.view_args or {}) and not candidates[0]:
        return refuse(400, "that is not a run id (letters, digits and '-' only)")
    return None
