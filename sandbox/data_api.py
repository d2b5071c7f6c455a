"""Clever's Data API v3.0 (and the same data under /v3.1), ``/me`` and the Events feed.

Events are kept 30 days by the sandbox clock; an events ``starting_after`` that is not (or no
longer) in the feed is ``404`` (``ending_before`` stays a plain bound, as on every list).

One dispatcher reads ``/<version>/<kind>[/<id>[/<relation>]]``: lists come back in Clever's
envelope (each item ``{"data": ..., "uri": ...}``, relative ``links``, no ``next`` on the last
page) in ascending id order, sliced from sorted id indexes; single objects as ``{"data", "links"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request

from sandbox.api_guard import guarded, message
from sandbox.state import Caller, SandboxState
from sandbox.store import KINDS, Obj, page, user_schools
from sandbox.versions import as_v30, event_json, user_json

bp = Blueprint("data_api", __name__)
MAX_LIMIT = 10000
DEFAULT_LIMIT = 100
# The role values each users listing accepts (Clever's spec enums).
ROLE_FILTERS = {
    "users": ("contact", "district_admin", "staff", "student", "teacher"),
    "schools": ("staff", "student", "teacher"),
    "sections": ("student", "teacher"),
    "resources": ("student", "teacher"),
}
SINGLE_RELATIONS = {"district": "districts", "school": "schools", "course": "courses", "term": "terms"}
LIST_RELATIONS = {
    "schools": {"courses", "sections", "terms", "users"},
    "users": {"schools", "sections", "mystudents", "myteachers", "mycontacts", "resources"},
    "sections": {"users", "resources"},
    "terms": {"schools", "sections"},
    "courses": {"resources", "schools", "sections"},
    "resources": {"courses", "sections", "users"},
}
RELATION_KIND = {"mystudents": "users", "myteachers": "users", "mycontacts": "users"}


class ApiError(Exception):
    """An answer other than 200, with Clever's ``{"message": ...}`` body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def state() -> SandboxState:
    """The sandbox state of the current app."""
    result: SandboxState = current_app.extensions["clever_sandbox"]
    return result


# A lone surrogate other than the ones that stand for a roster file's bytes that are not UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def json_response(body: str, status: int = 200) -> Response:
    """A JSON answer from an already serialised body.

    A roster file's bytes that are not UTF-8 go out as they were (``surrogateescape``), and a lone
    surrogate it escaped (``"\\ud800"``) goes out escaped, as a JSON encoder sends it.
    """
    body = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
    return Response(body.encode("utf-8", "surrogateescape"), status=status, mimetype="application/json")


@bp.route("/me")
@bp.route("/v3.0/<path:path>")
@bp.route("/v3.1/<path:path>")
@guarded
def data_api(path: str = "me") -> Response:
    """Every Data API and Events path."""
    version = request.path.split("/")[1] if request.path.startswith("/v3.") else "v3.0"
    caller: Caller = g.caller
    if request.path.startswith("/v3.") and version not in state().config.api_versions:
        return message(403, f"This application is not allowed to use API {version}")
    try:
        return _dispatch(version, path.strip("/").split("/"), caller)
    except ApiError as exc:
        return message(exc.status, exc.text)


def _dispatch(version: str, parts: list[str], caller: Caller) -> Response:
    if parts == ["me"]:
        return _me(version, caller)
    if caller.user_id and not _user_may_read(parts, caller):
        # Clever: SSO tokens see only themselves and their district.
        raise ApiError(403, "Resource not in token's scopes")
    kind = parts[0]
    if kind == "events" and len(parts) <= 2:
        return _events(version, parts[1] if len(parts) == 2 else None, caller)
    if kind not in KINDS or len(parts) > 3:
        raise ApiError(404, "Not Found")
    st = state()
    if len(parts) == 1:
        return _list(version, kind, _collection_ids(st, kind, caller))
    with st.lock:
        obj = _visible(st, kind, parts[1], caller)
    if len(parts) == 2:
        return _single(version, kind, obj)
    relation = parts[2]
    if relation in SINGLE_RELATIONS and kind != SINGLE_RELATIONS[relation]:
        target_kind = SINGLE_RELATIONS[relation]
        target_id = (
            obj["district"]
            if relation == "district"
            else obj.get("term_id" if relation == "term" else relation)
        )
        if kind == "districts" or (relation != "district" and kind != "sections"):
            raise ApiError(404, "Not Found")
        with st.lock:
            target = _visible(st, target_kind, str(target_id or ""), caller)
        return _single(version, target_kind, target)
    if relation not in LIST_RELATIONS.get(kind, ()):
        raise ApiError(404, "Not Found")
    with st.lock:
        ids = _related_ids(st, kind, obj, relation)
    return _list(version, RELATION_KIND.get(relation, relation), ids)


def _user_may_read(parts: list[str], caller: Caller) -> bool:
    return len(parts) == 2 and (
        parts == ["users", caller.user_id] or parts == ["districts", caller.district] or parts[0] == "me"
    )


def _visible(st: SandboxState, kind: str, object_id: str, caller: Caller) -> Obj:
    obj = st.store.get(kind, object_id) if object_id else None
    owner = None if obj is None else obj["id"] if kind == "districts" else obj.get("district")
    if obj is None or owner != caller.district:
        # Clever answers 404 alike for missing ids and ids not shared with the app.
        raise ApiError(404, f"Could not find {kind[:-1]} {object_id}")
    return obj


def _role_arg(kind: str) -> str:
    role = request.args.get("role", "")
    if role and role not in ROLE_FILTERS[kind]:
        raise ApiError(400, f"role must be one of {', '.join(ROLE_FILTERS[kind])}")
    return role


def _primary_arg() -> bool:
    primary = request.args.get("primary", "")
    if primary not in ("", "true"):
        raise ApiError(400, "primary must be 'true' or empty")
    return primary == "true"


def _collection_ids(st: SandboxState, kind: str, caller: Caller) -> Sequence[str]:
    if kind == "users" and (role := _role_arg("users")):
        return st.store.ids("role", role, caller.district)
    return st.store.ids("all", kind, caller.district)


def _related_ids(st: SandboxState, kind: str, obj: Obj, relation: str) -> Sequence[str]:
    store, object_id = st.store, obj["id"]
    if relation == "resources" or kind == "resources":
        return ()  # the sandbox shares no resources
    if kind == "schools" and relation == "users":
        role = _role_arg("schools") or "*"
        return store.ids("school_primary" if _primary_arg() else "school_users", object_id, role)
    if relation == "sections":
        index = {"schools": "school_sections", "users": "user_sections", "terms": "term_sections"}
        return store.ids(index.get(kind, "course_sections"), object_id)
    if kind == "users":
        return _people_of(st, obj, relation)
    if kind == "sections":  # relation == "users"
        role = _role_arg("sections")
        members = set()
        if role in ("", "student"):
            members |= set(obj.get("students") or [])
        if role in ("", "teacher"):
            members |= {*(obj.get("teachers") or []), *([obj["teacher"]] if obj.get("teacher") else [])}
        return sorted(m for m in members if m in store.raw["users"])
    # schools/{id}/courses|terms, terms/{id}/schools, courses/{id}/schools: through the sections.
    through = {"schools": "school_sections", "terms": "term_sections", "courses": "course_sections"}[kind]
    field = {"courses": "course", "terms": "term_id", "schools": "school"}[relation]
    found = {(store.get("sections", s) or {}).get(field) for s in store.ids(through, object_id)}
    return sorted(f for f in found if f and f in store.raw[relation])


def _people_of(st: SandboxState, user: Obj, relation: str) -> Sequence[str]:
    store, roles = st.store, user.get("roles") or {}
    if relation == "schools":
        return sorted(user_schools(user, primary_only=_primary_arg()))
    if relation == "mycontacts":
        return store.ids("mycontacts", user["id"])
    found: set[str] = set()
    if relation == "mystudents":
        if roles.get("contact"):
            found |= {r.get("student") for r in roles["contact"].get("student_relationships") or []}
        if roles.get("teacher"):
            for section_id in store.ids("user_sections", user["id"]):
                section = store.get("sections", section_id) or {}
                if user["id"] in (section.get("teachers") or []) or section.get("teacher") == user["id"]:
                    found |= set(section.get("students") or [])
    elif relation == "myteachers" and roles.get("student"):
        for section_id in store.ids("user_sections", user["id"]):
            section = store.get("sections", section_id) or {}
            if user["id"] in (section.get("students") or []):
                found |= {*(section.get("teachers") or []), str(section.get("teacher") or "")}
    return sorted(f for f in found if f and f in store.raw["users"])


def _limit() -> int:
    raw = request.args.get("limit", "")
    try:
        limit = int(raw) if raw else DEFAULT_LIMIT
    except ValueError as exc:
        raise ApiError(400, "limit must be an integer") from exc
    if limit > MAX_LIMIT:
        raise ApiError(413, f"limit must be at most {MAX_LIMIT}")
    if limit < 1:
        raise ApiError(400, "limit must be at least 1")
    return limit


def _links(item_ids: Sequence[str], has_prev: bool, has_next: bool) -> list[dict[str, str]]:
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("starting_after", "ending_before")]
    links = [{"rel": "self", "uri": request.full_path.rstrip("?")}]
    if item_ids and has_next:
        links.append(
            {"rel": "next", "uri": f"{request.path}?{urlencode([*kept, ('starting_after', item_ids[-1])])}"}
        )
    if item_ids and has_prev:
        links.append(
            {"rel": "prev", "uri": f"{request.path}?{urlencode([*kept, ('ending_before', item_ids[0])])}"}
        )
    return links


def _list(version: str, kind: str, ids: Sequence[str]) -> Response:
    limit = _limit()
    st = state()
    with st.lock:
        chosen, has_prev, has_next = page(
            ids, limit, request.args.get("starting_after"), request.args.get("ending_before")
        )
        table = st.store.raw[kind]
        shown = (lambda raw: user_json(raw, version)) if kind == "users" else (lambda raw: raw)
        items = [f'{{"data":{shown(table[i])},"uri":"/{version}/{kind}/{i}"}}' for i in chosen if i in table]
    return json_response(
        f'{{"data":[{",".join(items)}],"links":{json.dumps(_links(chosen, has_prev, has_next))}}}'
    )


def _single(version: str, kind: str, obj: Obj) -> Response:
    links = [{"rel": "self", "uri": f"/{version}/{kind}/{obj['id']}"}]
    if kind == "users" and version == "v3.0":
        obj = as_v30(obj)
    return json_response(json.dumps({"data": obj, "links": links}, ensure_ascii=False))


def _me(version: str, caller: Caller) -> Response:
    if caller.user_id:
        data = {
            "id": caller.user_id,
            "district": caller.district,
            "type": "user",
            "authorized_by": "district",
        }
        canonical = f"/{version}/users/{caller.user_id}"
        kind = "user"
    else:
        data = {"id": caller.district, "type": "district"}
        canonical, kind = f"/{version}/districts/{caller.district}", "district"
    links = [{"rel": "self", "uri": "/me"}, {"rel": "canonical", "uri": canonical}]
    if caller.user_id:
        links.append({"rel": "district", "uri": f"/{version}/districts/{caller.district}"})
    return json_response(json.dumps({"type": kind, "data": data, "links": links}))


def _events(version: str, event_id: str | None, caller: Caller) -> Response:
    st = state()
    with st.lock:
        st.events.expire(st.clock())
        if event_id is not None:
            event = st.events.by_id.get(event_id)
            if event is None:
                raise ApiError(404, f"Could not find event {event_id}")
            links = json.dumps([{"rel": "self", "uri": f"/{version}/events/{event_id}"}])
            return json_response(f'{{"data":{event_json(event.raw, version)},"links":{links}}}')
        cursor = request.args.get("starting_after")
        if cursor and cursor not in st.events.by_id:
            # An event id never seen, or dropped after 30 days: events since it may be lost, so the
            # feed refuses it (404, the spec's one error of /events) rather than guess where to go on.
            raise ApiError(404, f"Could not find event {cursor}: it is not (or no longer) in the events feed")
        ids = st.events.select(request.args.getlist("record_type"), request.args.get("school"))
    limit = _limit()
    with st.lock:
        chosen, has_prev, has_next = page(
            ids, limit, request.args.get("starting_after"), request.args.get("ending_before")
        )
        items = [
            f'{{"data":{event_json(st.events.by_id[i].raw, version)},"uri":"/{version}/events/{i}"}}'
            for i in chosen
        ]
    return json_response(
        f'{{"data":[{",".join(items)}],"links":{json.dumps(_links(chosen, has_prev, has_next))}}}'
    )
