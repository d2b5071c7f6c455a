"""Sandbox-only endpoints (Basic auth with the app's client credentials): change the roster, list people.

``POST /sandbox/mutations`` takes one change or a list of them and answers ``{"events": [...]}``:

- ``{"op": "create", "kind": "users", "object": {...}}`` (id, district and timestamps filled in)
- ``{"op": "update", "kind": "users", "id": "...", "changes": {...}}`` (merged; ``null`` deletes)
- ``{"op": "delete", "kind": "sections", "id": "..."}``
- ``{"op": "move_student", "student": "...", "from_section": "...", "to_section": "..."}``

``GET /sandbox/people?role=student&limit=25`` lists people with their badge codes, for testers.

``POST /sandbox/tokens/rotate`` (``district=<id>`` in the query, form or JSON; default the first
district) gives the district a new district-app token, as Clever does when it rotates one: the old
token gets 401 from then on and ``GET /oauth/tokens?owner_type=district`` lists the new one. It
answers ``{"district": ..., "access_token": <new token>}``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from sandbox.data_api import state
from sandbox.events import MutationError
from sandbox.oauth import client_credentials, display_name, oauth_error

bp = Blueprint("sandbox_admin", __name__)


@bp.post("/sandbox/mutations")
def mutations() -> Response:
    """Apply roster changes; each yields Clever's events."""
    st = state()
    if not st.check_client(*client_credentials()):
        return oauth_error(401, "invalid_client", "Invalid client credentials")
    ops = request.get_json(silent=True)
    if not isinstance(ops, dict | list):
        return Response(
            json.dumps({"message": "expected a JSON change or a list of them"}),
            400,
            mimetype="application/json",
        )
    try:
        events = st.mutate(ops)
    except MutationError as exc:
        return Response(json.dumps({"message": str(exc)}), 400, mimetype="application/json")
    return Response(json.dumps({"events": events}, ensure_ascii=False), mimetype="application/json")


@bp.post("/sandbox/tokens/rotate")
def rotate_token() -> Response:
    """Rotate a district-app token."""
    st = state()
    if not st.check_client(*client_credentials()):
        return oauth_error(401, "invalid_client", "Invalid client credentials")
    body = request.get_json(silent=True) if request.is_json else None
    district = str((body or {}).get("district") or request.values.get("district") or st.district_id)
    try:
        token = st.rotate_district_token(district)
    except MutationError as exc:
        return Response(json.dumps({"message": str(exc)}), 404, mimetype="application/json")
    return Response(json.dumps({"district": district, "access_token": token}), mimetype="application/json")


@bp.get("/sandbox/people")
def people() -> Response:
    """People of a role with their badge codes (students)."""
    st = state()
    if not st.check_client(*client_credentials()):
        return oauth_error(401, "invalid_client", "Invalid client credentials")
    role = request.args.get("role", "student")
    limit = request.args.get("limit", type=int)
    with st.lock:
        found = [
            {
                "id": u["id"],
                "name": display_name(u),
                "roles": sorted(u.get("roles") or {}),
                **({"badge_code": st.badge_code(u["id"])} if role == "student" else {}),
            }
            for u in st.people(role, limit)
        ]
    return Response(json.dumps({"data": found}, ensure_ascii=False), mimetype="application/json")
