"""Creates per second through the clever-sync extension, beside the admin REST path, on the running
services' Keycloak (dev-file H2 by default).

``python -m bench.extension_rate --people 1000,5000 [--batch 500] [--parallel 1] [--rest 1000]``

Each size gets a fresh realm with a ``clever`` identity provider and a ``/Clever`` tree of 10 schools
(a Students group and 20 sections each); every person has 8 ``clever_*`` attributes, 3 groups (the
role group and two sections) and the Clever link. Only the people are timed; groups are made first.
``--rest N`` times N of the same people through ``POST /users`` with 4 threads (the sidecar's path).
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from plugin.config.settings import load_env_file

ROOT = Path(__file__).resolve().parents[1]
SCHOOLS = 10
SECTIONS = 20


class Keycloak:
    """Admin calls signed in as the master admin of the running services."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = env["KEYCLOAK_URL"]
        self.env = env
        self.session = requests.Session()
        self.login()

    def login(self) -> None:
        response = self.session.post(
            f"{self.url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.env["KEYCLOAK_ADMIN_USER"],
                "password": self.env["KEYCLOAK_ADMIN_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        response = self.session.request(method, f"{self.url}/admin{path}", json=body, timeout=600)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response


def make_realm(kc: Keycloak) -> str:
    realm = f"rate-{uuid.uuid4().hex[:8]}"
    kc.call("POST", "/realms", {"realm": realm, "enabled": True})
    kc.call(
        "POST",
        f"/realms/{realm}/identity-provider/instances",
        {
            "alias": "clever",
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "clientId": "x",
                "clientSecret": "y",
                "authorizationUrl": "https://clever.example/oauth/authorize",
                "tokenUrl": "https://clever.example/oauth/tokens",
            },
        },
    )
    tree: list[dict[str, Any]] = [{"op": "create_group", "ref": "root", "name": "Clever"}]
    for school in range(SCHOOLS):
        key = f"school:{school}"
        tree.append({"op": "create_group", "ref": key, "parentRef": "root", "name": f"School {school}"})
        tree.append(
            {
                "op": "create_group",
                "ref": f"{key}:students",
                "parentRef": key,
                "name": "Students",
                "realmRoles": ["clever-student"],
            }
        )
        for section in range(SECTIONS):
            tree.append(
                {
                    "op": "create_group",
                    "ref": f"section:{school}:{section}",
                    "parentRef": key,
                    "name": f"Section {section}",
                }
            )
    results = kc.call("POST", f"/realms/{realm}/clever-sync/batch", {"operations": tree}).json()["results"]
    assert all(r["status"] == "created" for r in results), results
    return realm


def person(n: int, tag: str) -> dict[str, Any]:
    school = n % SCHOOLS
    clever_id = f"{tag}{n:020x}"[-24:]
    return {
        "op": "create_user",
        "ref": clever_id,
        "username": f"{tag}.student{n}",
        "firstName": f"First{n}",
        "lastName": f"Last{n}",
        "email": f"{tag}.student{n}@example.org",
        "attributes": {
            "clever_id": [clever_id],
            "clever_role": ["student"],
            "clever_district": ["d1"],
            "clever_school_ids": [f"s{school}"],
            "clever_grade": [str(n % 12 + 1)],
            "clever_student_number": [str(100000 + n)],
            "clever_sis_id": [f"sis{n}"],
            "clever_state_id": [f"st{n}"],
        },
        "groups": [
            f"/Clever/School {school}/Students",
            f"/Clever/School {school}/Section {n % SECTIONS}",
            f"/Clever/School {school}/Section {(n + 7) % SECTIONS}",
        ],
        "link": {"alias": "clever", "userId": clever_id, "userName": f"{tag}.student{n}"},
    }


def extension_rate(kc: Keycloak, realm: str, people: int, batch: int, parallel: int) -> float:
    ops = [person(n, "x") for n in range(people)]

    def send(first: int) -> None:
        body = {"operations": ops[first : first + batch]}
        answer = kc.call("POST", f"/realms/{realm}/clever-sync/batch", body)
        bad = [r for r in answer.json()["results"] if r["status"] != "created"]
        assert not bad, bad[:3]

    firsts = list(range(0, people, batch))
    start = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        for group in range(0, len(firsts), parallel * 4):
            kc.login()  # the admin token lives 60 s; a 5,000 run outlasts it
            list(pool.map(send, firsts[group : group + parallel * 4]))
    return people / (time.monotonic() - start)


def rest_rate(kc: Keycloak, realm: str, people: int) -> float:
    def create(n: int) -> None:
        op = person(n, "r")
        kc.call(
            "POST",
            f"/realms/{realm}/users",
            {
                "username": op["username"],
                "enabled": True,
                "firstName": op["firstName"],
                "lastName": op["lastName"],
                "email": op["email"],
                "attributes": op["attributes"],
                "groups": op["groups"],
                "federatedIdentities": [
                    {"identityProvider": "clever", "userId": op["ref"], "userName": op["username"]}
                ],
            },
        )

    kc.login()
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(people)))
    return people / (time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extension_rate", description=__doc__)
    parser.add_argument("--people", default="1000,5000", help="comma-separated sizes")
    parser.add_argument("--batch", type=int, default=500, help="operations per extension batch")
    parser.add_argument("--parallel", type=int, default=1, help="batches in flight at once")
    parser.add_argument("--rest", type=int, default=0, help="also time this many creates via POST /users")
    args = parser.parse_args(argv)
    kc = Keycloak(load_env_file(str(ROOT / "var" / "services.env")))
    for people in (int(size) for size in args.people.split(",")):
        realm = make_realm(kc)
        try:
            rate = extension_rate(kc, realm, people, args.batch, args.parallel)
            print(
                f"extension: {people} people in batches of {args.batch}, {args.parallel} at once: "
                f"{rate:.0f} creates/s",
                flush=True,
            )
        finally:
            kc.login()
            kc.call("DELETE", f"/realms/{realm}")
    if args.rest:
        realm = make_realm(kc)
        try:
            rate = rest_rate(kc, realm, args.rest)
            print(f"REST POST /users, 4 threads: {args.rest} people: {rate:.0f} creates/s", flush=True)
        finally:
            kc.login()
            kc.call("DELETE", f"/realms/{realm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
