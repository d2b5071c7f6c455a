"""How fresh continuous updates keep the realm: from a change in Clever to Keycloak and LDAP showing it.

``python -m bench.freshness [--changes 60] [--minutes 2] [--spread 960] [--out bench/results]``

On the sandbox district (200 students, ``sandbox.generator.generate(200, seed=1)``, served over real
HTTP) in a fresh realm, OU and Redis db (``bench.env``), as a district runs it:

1. the students the benchmark will move or see leave have entries in the district's directory
   (OpenLDAP, federated into the realm READ_ONLY, ``KCC_MATCH_SCOPES`` naming it the students'
   place), so LDAP's class groups list them; a first full sync links them by name;
2. each departing student signs in to an application of the realm (a client with the password
   grant): they hold a session and a refresh token;
3. a real worker (``worker.py``, RQ's scheduler on) runs with continuous updates at their default,
   ``KCC_CONTINUOUS=true`` and ``KCC_CONTINUOUS_MINUTES=2``;
4. ``--changes`` changes (departures, class moves and class renames, a third each) are made in the
   sandbox at random moments over ``--spread`` seconds (uniform: a change does not know when the
   next check is), and each is looked for about once a second in Keycloak and in OpenLDAP
   (``bench.freshness_changes``); for a departure, also when the person's session is refused.

Output: ``<date>-freshness.json`` in ``--out`` (every change's times, p50 and p95 of each kind and
of all, the ticks' outcomes) and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keycloak import KeycloakOpenID
from ldap3.utils.dn import escape_rdn
from redis import Redis

from bench.env import ROOT, Place, Services
from bench.freshness_changes import CLIENT_ID, PASSWORD, Change, Lookers, look, make
from connectors.keycloak_ldap import federate_ldap
from plugin.config.settings import Settings
from plugin.runs import continuous, freshness, jobs
from plugin.runs.state import SyncState
from plugin.sync.applied import Applied
from plugin.sync.run_options import RunOptions
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

log = logging.getLogger("bench.freshness")
GIVE_UP_S = 600.0  # a change not seen after this is reported as not seen


def raw(sandbox: SandboxState, kind: str) -> list[dict[str, Any]]:
    """The sandbox's records of ``kind`` as Clever's JSON."""
    return [json.loads(value) for value in sandbox.store.raw[kind].values()]


def pick_changes(sandbox: SandboxState, count: int, spread: float, rng: random.Random) -> list[Change]:
    """A third departures, a third moves, a third renames, at random moments in ``spread`` seconds."""
    users = raw(sandbox, "users")
    names = Counter(((u.get("name") or {}).get("first"), (u.get("name") or {}).get("last")) for u in users)
    students = [
        u["id"]
        for u in users
        if (u.get("roles") or {}).get("student") is not None
        and names[((u.get("name") or {}).get("first"), (u.get("name") or {}).get("last"))] == 1
    ]
    sections = raw(sandbox, "sections")
    rng.shuffle(students)
    kinds = ["departure", "move", "rename"]
    per = [count // 3 + (1 if i < count % 3 else 0) for i in range(3)]
    moments = sorted(rng.uniform(0, spread) for _ in range(count))
    rng.shuffle(moments)
    changes: list[Change] = []
    for kind, how_many in zip(kinds, per, strict=True):
        for _ in range(how_many):
            changes.append(_one(kind, students, sections, rng, moments.pop()))
    return sorted(changes, key=lambda c: c.due_s)


def _one(
    kind: str, students: list[str], sections: list[dict[str, Any]], rng: random.Random, due: float
) -> Change:
    if kind == "rename":
        section = sections.pop(rng.randrange(len(sections)))
        return Change("rename", section["id"], due, new_name=f"{section['name']} (renamed)")
    while True:
        student = students.pop()
        if kind == "departure":
            return Change("departure", student, due)
        theirs = [s for s in sections if student in s.get("students", [])]
        if not theirs:
            continue
        old = rng.choice(theirs)
        others = [
            s for s in sections if s["school"] == old["school"] and student not in s.get("students", [])
        ]
        if others:
            return Change("move", student, due, old_section=old["id"], new_section=rng.choice(others)["id"])


def directory_entries(services: Services, place: Place, sandbox: SandboxState, changes: list[Change]) -> None:
    """An entry in the district's directory for each student the benchmark moves or sees leave."""
    people = {u["id"]: u for u in raw(sandbox, "users")}
    conn = services.ldap()
    for n, change in enumerate(c for c in changes if c.kind != "rename"):
        name = people[change.clever_id].get("name") or {}
        change.dn = f"uid={escape_rdn(f'bench{n}')},{place.ou.people_dn}"
        attributes = {
            "cn": f"{name.get('first')} {name.get('last')}",
            "sn": name.get("last"),
            "givenName": name.get("first"),
            "userPassword": PASSWORD,
        }
        if not conn.add(change.dn, ["inetOrgPerson"], attributes):
            raise RuntimeError(f"LDAP refused {change.dn}: {conn.result['description']}")
    conn.unbind()


def prepare(
    services: Services, place: Place, settings: Settings, sandbox: SandboxState, changes: list[Change]
) -> Lookers:
    """The directory, a first full sync, the application and its sessions; what to look with."""
    admin = services.admin(place.realm)
    directory_entries(services, place, sandbox, changes)
    federate_ldap(admin, settings.ldap, users_dn=place.ou.people_dn, mode="READ_ONLY")
    state = SyncState.from_url(settings.redis_url, settings.options.lease_s)
    first = jobs.run_locked(
        settings, state, place.district_id, "bench-full", RunOptions(full=True, trigger="bench")
    )
    linked = sum(1 for c in changes if c.kind != "rename")
    if first.status != "ok" or first.kinds["students"]["linked_by_name"] != linked:
        raise RuntimeError(f"the first sync did not link the directory's students:\n{first.summary()}")
    group_ids = {
        key.removeprefix("section:"): value
        for key, value in Applied.from_url(settings.redis_url, place.realm, place.district_id)
        .group_ids()
        .items()
    }
    client = admin.create_client(
        {
            "clientId": CLIENT_ID,
            "publicClient": False,
            "directAccessGrantsEnabled": True,
            "standardFlowEnabled": False,
        }
    )
    oidc = KeycloakOpenID(
        server_url=settings.keycloak.url,
        realm_name=place.realm,
        client_id=CLIENT_ID,
        client_secret_key=admin.get_client_secrets(client)["value"],
    )
    for change in changes:
        if change.kind == "rename":
            change.keycloak_id = group_ids[change.clever_id]
            continue
        account = admin.get_users({"idpAlias": "clever", "idpUserId": change.clever_id})[0]
        change.keycloak_id = account["id"]
        if change.kind == "departure":
            change.refresh_token = oidc.token(account["username"], PASSWORD)["refresh_token"]
    return Lookers(admin, services.ldap(), place.ou.groups_dn, group_ids, oidc)


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``worker.py`` with the place's settings, continuous updates on (a process of its own)."""
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("KCC_")}
    process_env.update(env)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=process_env, stdout=out, stderr=out
        )


def watch(changes: list[Change], sandbox: SandboxState, lookers: Lookers) -> None:
    """Make each change when due, and look for every change made until each is seen (or given up)."""
    start = time.time()
    waiting = list(changes)
    while True:
        now = time.time()
        while waiting and waiting[0].due_s <= now - start:
            make(waiting.pop(0), sandbox)
        pending = [c for c in changes if c.made and not c.done and now - c.made < GIVE_UP_S]
        if not waiting and not pending:
            return
        for change in pending:
            look(change, lookers)
        time.sleep(max(0.0, 1.0 - (time.time() - now)))


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94] if len(ordered) > 1 else ordered[0]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
    }


def summary(changes: list[Change]) -> dict[str, Any]:
    results = [c.result() for c in changes]
    seen = {
        kind: [r["seen_s"] for r in results if r["kind"] == kind and r["seen_s"] is not None]
        for kind in ("departure", "move", "rename")
    }
    return {
        "seen": {
            "all": percentiles([v for values in seen.values() for v in values]),
            **{k: percentiles(v) for k, v in seen.items()},
        },
        "keycloak": percentiles([r["keycloak_s"] for r in results if r["keycloak_s"] is not None]),
        "ldap": percentiles([r["ldap_s"] for r in results if r["ldap_s"] is not None]),
        "session_refused": percentiles(
            [r["session_refused_s"] for r in results if r["session_refused_s"] is not None]
        ),
        "not_seen": sum(1 for r in results if r["seen_s"] is None),
        "changes": results,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    services = Services()
    rng = random.Random(args.seed)
    app = create_app(SandboxConfig(size=args.students, seed=1))
    sandbox: SandboxState = app.extensions["clever_sandbox"]
    changes = pick_changes(sandbox, args.changes, args.spread, rng)
    with serve(app) as url, services.place(url, sandbox.district_id, "fresh") as place:
        env = {
            **place.env(services.env),
            "KCC_MATCH_SCOPES": f"student={place.ou.people_dn}",
            "KCC_CONTINUOUS": "true",
            "KCC_CONTINUOUS_MINUTES": str(args.minutes),
        }
        settings = Settings.from_env(env)
        lookers = prepare(services, place, settings, sandbox, changes)
        state = SyncState.from_url(settings.redis_url)
        opens, _ = jobs.window_around(datetime.now(UTC), "UTC")
        state.set_weekly_done(place.district_id, opens.date().isoformat())  # no weekly run meanwhile
        worker = start_worker(env, ROOT / "var" / "freshness-worker.log")  # its log, for a look
        try:
            watch(changes, sandbox, lookers)
        finally:
            worker.terminate()
            worker.wait(60)
            continuous.cancel(jobs.queue_for(settings), place.district_id)
        fresh = freshness.load(Redis.from_url(settings.redis_url), place.district_id)
        runs = [r for r in state.history(place.district_id, 100) if r.trigger == "continuous"]
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "students": args.students,
            "minutes": args.minutes,
            "spread_s": args.spread,
            "commit": _commit(),
            "keycloak_version": services.keycloak_version(),
            "keycloak_backend": services.keycloak_backend,
            "load_average": os.getloadavg(),
            "ticks": fresh.ticks,
            "continuous_runs": {"n": len(runs), "seconds": percentiles([r.duration_s for r in runs])},
            **summary(changes),
        }


def _commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return found.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.freshness", description=__doc__)
    parser.add_argument(
        "--changes", type=int, default=60, help="changes made in Clever (a third of each kind)"
    )
    parser.add_argument("--minutes", type=int, default=2, help="KCC_CONTINUOUS_MINUTES (the default: 2)")
    parser.add_argument("--spread", type=float, default=960.0, help="seconds over which the changes are made")
    parser.add_argument("--students", type=int, default=200, help="the sandbox district's size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's request lines
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result = run(args)
    path = Path(args.out) / f"{result['date'][:10]}-freshness.json"
    path.write_text(json.dumps(result, indent=2))
    for what in ("all", "departure", "move", "rename"):
        print(f"{what:<22} {result['seen'][what]}")
    for what in ("keycloak", "ldap", "session_refused"):
        print(f"{what:<22} {result[what]}")
    runs = result["continuous_runs"]
    print(f"not seen: {result['not_seen']}; ticks {result['ticks']}; continuous runs {runs}")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
