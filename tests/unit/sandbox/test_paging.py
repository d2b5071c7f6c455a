"""Paging as Clever pages: ascending ids, starting_after/ending_before, relative links, limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.state import SandboxState


def get(client: FlaskClient, state: SandboxState, uri: str) -> Any:
    response = client.get(uri, headers={"Authorization": f"Bearer {state.district_token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rels(body: Any) -> dict[str, str]:
    return {link["rel"]: link["uri"] for link in body["links"]}


def test_limit_one_walks_every_teacher_in_order_following_next(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    expected = sorted(u["id"] for u in sandbox_state.people("teacher") if "teacher" in u["roles"])
    seen, uri, requests = [], "/v3.0/users?role=teacher&limit=1", 0
    while uri:
        body = get(client, sandbox_state, uri)
        requests += 1
        seen += [item["data"]["id"] for item in body["data"]]
        assert all(item["uri"] == f"/v3.0/users/{item['data']['id']}" for item in body["data"])
        uri = rels(body).get("next", "")
        assert not uri or uri.startswith("/v3.0/users?role=teacher&limit=1&starting_after=")
    assert seen == expected and len(expected) > 3
    assert requests == len(expected)  # no empty trailing page: the last page has no next link


def test_exactly_one_page_has_only_self(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    count = len(sandbox_state.store.ids("all", "schools", sandbox_state.district_id))
    body = get(sandbox_app.test_client(), sandbox_state, f"/v3.0/schools?limit={count}")
    assert len(body["data"]) == count
    assert body["links"] == [{"rel": "self", "uri": f"/v3.0/schools?limit={count}"}]


def test_starting_after_the_last_id_and_ending_before_the_first_are_empty(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    ids = list(sandbox_state.store.ids("all", "sections", sandbox_state.district_id))
    after_last = get(client, sandbox_state, f"/v3.0/sections?starting_after={ids[-1]}")
    assert after_last["data"] == [] and set(rels(after_last)) == {"self"}
    before_first = get(client, sandbox_state, f"/v3.0/sections?ending_before={ids[0]}")
    assert before_first["data"] == [] and set(rels(before_first)) == {"self"}


def test_ending_before_pages_backwards_with_prev_and_next(
    sandbox_app: Any, sandbox_state: SandboxState
) -> None:
    client = sandbox_app.test_client()
    ids = list(sandbox_state.store.ids("all", "users", sandbox_state.district_id))
    body = get(client, sandbox_state, f"/v3.0/users?limit=3&ending_before={ids[10]}")
    assert [item["data"]["id"] for item in body["data"]] == ids[7:10]
    assert rels(body)["prev"] == f"/v3.0/users?limit=3&ending_before={ids[7]}"
    assert rels(body)["next"] == f"/v3.0/users?limit=3&starting_after={ids[9]}"


def test_default_limit_is_100_and_10000_is_the_most(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    assert len(get(client, sandbox_state, "/v3.0/users")["data"]) == 100
    assert get(client, sandbox_state, "/v3.0/users?limit=10000")["links"][1:] == []
    auth = {"Authorization": f"Bearer {sandbox_state.district_token}"}
    too_big = client.get("/v3.0/users?limit=10001", headers=auth)
    assert too_big.status_code == 413 and "message" in too_big.get_json()
    assert client.get("/v3.0/users?limit=0", headers=auth).status_code == 400
    assert client.get("/v3.0/users?limit=ten", headers=auth).status_code == 400


def test_v31_serves_the_same_data(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    v30 = get(client, sandbox_state, "/v3.0/users?limit=10000")
    v31 = get(client, sandbox_state, "/v3.1/users?limit=10000")
    assert [i["data"] for i in v30["data"]] == [i["data"] for i in v31["data"]]
    assert v31["data"][0]["uri"].startswith("/v3.1/users/")


def test_role_and_primary_filters(sandbox_app: Any, sandbox_state: SandboxState) -> None:
    client = sandbox_app.test_client()
    two_schools = next(
        u for u in sandbox_state.people("student") if len(u["roles"]["student"]["schools"]) == 2
    )
    primary, other = two_schools["roles"]["student"]["schools"]
    at_other = get(client, sandbox_state, f"/v3.0/schools/{other}/users?role=student&limit=10000")
    assert two_schools["id"] in [i["data"]["id"] for i in at_other["data"]]
    primary_only = get(
        client, sandbox_state, f"/v3.0/schools/{other}/users?role=student&primary=true&limit=10000"
    )
    assert two_schools["id"] not in [i["data"]["id"] for i in primary_only["data"]]
    assert all(i["data"]["roles"]["student"]["school"] == other for i in primary_only["data"])
    mine = get(client, sandbox_state, f"/v3.0/users/{two_schools['id']}/schools?primary=true")
    assert [i["data"]["id"] for i in mine["data"]] == [primary]


def test_an_empty_collection_is_an_empty_page(tmp_path: Path) -> None:
    district = {"id": "a" * 24, "name": "#DEMO Empty"}
    school = {"id": "b" * 24, "district": "a" * 24, "name": "Only School"}
    path = tmp_path / "roster.json"
    path.write_text(json.dumps({"districts": [district], "schools": [school]}))
    app = create_app(SandboxConfig(roster=path))
    state: SandboxState = app.extensions["clever_sandbox"]
    body = get(app.test_client(), state, "/v3.0/sections?limit=1")
    assert body == {"data": [], "links": [{"rel": "self", "uri": "/v3.0/sections?limit=1"}]}
    assert get(app.test_client(), state, f"/v3.0/schools/{'b' * 24}/users")["data"] == []
