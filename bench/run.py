"""One benchmark run: per size, a sandbox district over HTTP and every method on a fresh realm.

Order per size (each on its own realm, deleted afterwards): (c) the partialImport floor, (b)
Keycloak's LDAP full sync, (a) our full sync, (d) the no-op resyncs on (a)'s realm, (e) the
incremental run after 1% of people changed, then the scale-out run (on the changed roster).
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import time
import uuid
from typing import Any

from flask import Flask

from bench import cpu, ours, scale
from bench.env import Ou, Place, Services
from bench.peers import (
    keycloak_ldap_full_sync,
    keycloak_ldap_full_sync_with_groups,
    load_ldap_groups,
    load_ldap_people,
    partial_import_floor,
    people_of,
)
from bench.worker import measured_sync
from connectors.clever import CleverClient
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.desired import MapInput
from plugin.sync.desired_people import desired_state
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

log = logging.getLogger("bench")
SIZES = {"tiny": 100, "S": 1_000, "M": 10_000, "L": 50_000, "XL": 200_000}
METHODS = ("a", "a_rest", "b", "b2", "c", "d", "e", "scaleout")
PAGE = 10_000  # Clever's maximum page size


def bench_sandbox(size: str, seed: int = 1) -> tuple[Flask, SandboxState]:
    """The bench's sandbox district of ``size`` (a name of ``SIZES`` or a number of students),
    unthrottled, and its state (to change it as Clever would)."""
    app = create_app(SandboxConfig(size=SIZES.get(size) or int(size), seed=seed, rate_limit=10**7))
    return app, app.extensions["clever_sandbox"]


def bench_size(
    services: Services,
    label: str,
    *,
    methods: tuple[str, ...] = METHODS,
    peer_sample: int = 20_000,
    floor_sample: int = 2_000,
    workers: int = 2,
    nodes: int = 1,
    seed: int = 1,
) -> dict[str, Any]:
    """Every chosen method on one generated district; the size's results.

    (b) and (c) get at most ``peer_sample`` / ``floor_sample`` people (the first by Clever id; (c)
    still imports the whole group tree): their rates are measured on that sample and labelled so.
    """
    students = SIZES[label] if label in SIZES else int(label)
    app = create_app(SandboxConfig(size=students, seed=seed, rate_limit=10**7))
    state: SandboxState = app.extensions["clever_sandbox"]
    counts = {kind: state.store.count(kind) for kind in ("schools", "users", "sections")}
    out: dict[str, Any] = {"size": label, "students": students, "roster": counts, "methods": {}}
    with serve(app) as url:
        district = state.district_id
        settings = Place("unused", Ou("", "", ""), services.redis_url, url, district).settings(services.env)
        roster = CleverClient(settings.clever).roster(district)
        mapped = desired_state(roster, MapInput(options=settings.options))
        people = people_of(mapped.desired)
        out["people"] = len(people)
        out["groups"] = len(mapped.desired.groups)
        log.info("%s: %d students, %d people, %d groups", label, students, len(people), out["groups"])
        results = out["methods"]

        if "c" in methods:
            with services.place(url, district, "c") as place:
                admin = services.admin(place.realm)
                ensure_broker(admin, place.settings(services.env))
                floor_people = people[:floor_sample]
                floor = partial_import_floor(admin, place.realm, mapped.desired.groups, floor_people)
                results["c"] = _peer(floor) | _sampled(floor_people, people)
            log.info("%s (c) %.1f s", label, results["c"]["seconds"])

        sample = people if len(people) <= peer_sample else people[:peer_sample]  # (b), (b2)
        if "b" in methods:
            with services.place(url, district, "b") as place:
                conn = services.ldap()
                load_ldap_people(conn, place.ou.people_dn, sample)
                conn.unbind()
                ldap = place.settings(services.env).ldap  # people_dn: the method's own OU
                peer = keycloak_ldap_full_sync(services.admin(place.realm), place.realm, ldap)
                results["b"] = _peer(peer) | _sampled(sample, people)
            log.info("%s (b) %.1f s for %d people", label, results["b"]["seconds"], len(sample))

        if "b2" in methods:
            with services.place(url, district, "b2") as place:
                conn = services.ldap()
                load_ldap_people(conn, place.ou.people_dn, sample)
                groups = load_ldap_groups(
                    conn, place.ou.groups_dn, place.ou.people_dn, mapped.desired.groups, sample
                )
                conn.unbind()
                ldap = place.settings(services.env).ldap
                memberships = sum(len(p.groups) for p in sample)
                peer = keycloak_ldap_full_sync_with_groups(
                    services.admin(place.realm), place.realm, ldap, memberships
                )
                results["b2"] = _peer(peer) | _sampled(sample, people) | {"ldap_groups": groups}
            log.info("%s (b2) %.1f s for %d people", label, results["b2"]["seconds"], len(sample))

        if "a_rest" in methods:
            with services.place(url, district, "ar", bulk=False) as place:
                ensure_broker(services.admin(place.realm), place.settings(services.env))
                results["a_rest"] = _ours(services, place, "a_rest", len(people), full=False)
                log.info("%s (a, REST) %.1f s", label, results["a_rest"]["seconds"])

        if "a" in methods:
            with services.place(url, district, "a") as place:
                ensure_broker(services.admin(place.realm), place.settings(services.env))
                with cpu.measured(services.env) as used:
                    results["a"] = _ours(services, place, "a", len(people), full=False)
                results["a"]["cpu"] = used | {"ms_per_person": cpu.per_person(used, len(people))}
                log.info("%s (a) %.1f s", label, results["a"]["seconds"])
                if "d" in methods:
                    results["d"] = _ours(services, place, "d", len(people), full=True)
                    results["d_events"] = _ours(services, place, "d_events", len(people), full=False)
                    log.info("%s (d) %.1f s", label, results["d"]["seconds"])
                if "e" in methods:
                    changed = ours.mutate_one_percent(state, len(people), seed)
                    results["e"] = _ours(services, place, "e", len(people), full=False) | {"changed": changed}
                    log.info("%s (e) %.1f s", label, results["e"]["seconds"])
        # Last: after (e) the roster differs from (a)'s by the 1% change (no realm is shared).
        if "scaleout" in methods and workers > 1:
            with services.place(url, district, "so") as place:
                ensure_broker(services.admin(place.realm), place.settings(services.env))
                with cpu.measured(services.env) as used:
                    results["scaleout"] = scale.run_scaleout(
                        services, place, workers, len(people), nodes=nodes
                    )
                results["scaleout"]["cpu"] = used | {"ms_per_person": cpu.per_person(used, len(people))}
                results["scaleout"]["load_average_after"] = _load()
            log.info("%s scale-out %.1f s", label, results["scaleout"]["seconds"])

    out["ratios"] = ratios(results)
    out["targets"] = targets(out)
    return out


def _ours(services: Services, place: Place, method: str, people: int, *, full: bool) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:12]
    lock = SyncState.from_url(place.redis_url)
    if lock.acquire(place.district_id, run_id) is not None:
        raise RuntimeError("the district lock is held")
    result = ours.run_job(services, place, measured_sync, place.district_id, run_id, full=full)
    return ours.summary(method, result, people) | {"load_average_after": _load()}


def _sampled(sample: list[Any], people: list[Any]) -> dict[str, Any]:
    sampled = len(sample) < len(people)
    return {
        "sampled": sampled,
        "sample_size": len(sample),
        "note": "measured on the first sample_size people by Clever id" if sampled else "all people",
    }


def _peer(result: Any) -> dict[str, Any]:
    return {
        "method": result.method,
        "seconds": round(result.seconds, 3),
        "people": result.people,
        "people_per_second": round(result.people / result.seconds, 1) if result.seconds else None,
        "keycloak_http_calls": result.http_calls,
        "detail": result.detail,
        "load_average_after": _load(),
    }


def _load() -> list[float]:
    """The 1, 5 and 15-minute load averages: how busy the shared machine was around a method."""
    return [round(x, 2) for x in os.getloadavg()]


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """(a)/(c), (a)/(b) per person, (d)/(a), (e)/(a), and the scale-out speedup."""

    def seconds(key: str) -> float | None:
        return results[key]["seconds"] if key in results else None

    def per_person(key: str) -> float | None:
        found = results.get(key)
        return found["seconds"] / found["people"] if found and found["people"] else None

    def ratio(top: float | None, bottom: float | None) -> float | None:
        return round(top / bottom, 3) if top is not None and bottom else None

    return {
        "a_over_c_per_person": ratio(per_person("a"), per_person("c")),
        "a_over_b_per_person": ratio(per_person("a"), per_person("b")),
        "a_over_b2_per_person": ratio(per_person("a"), per_person("b2")),
        "a_rest_over_a": ratio(seconds("a_rest"), seconds("a")),
        "b2_over_a_per_person": ratio(per_person("b2"), per_person("a")),
        "d_over_a": ratio(seconds("d"), seconds("a")),
        "d_events_over_a": ratio(seconds("d_events"), seconds("a")),
        "e_over_a": ratio(seconds("e"), seconds("a")),
        "scaleout_speedup": ratio(seconds("a"), seconds("scaleout")),
    }


def targets(out: dict[str, Any]) -> dict[str, Any]:
    """Each target of issue 7, met or not (None when the method did not run)."""
    r, m = out["ratios"], out["methods"]

    def check(value: float | None, ok: bool) -> bool | None:
        return None if value is None else ok

    rss = m.get("a", {}).get("worker_peak_rss_kb")
    rss_limit = 100 * 1024 + out["people"]
    pages = sum(math.ceil(out["roster"][k] / PAGE) for k in ("schools", "users", "sections"))
    clever = m.get("a", {}).get("clever_requests")
    return {
        "a_le_1.5c": check(r["a_over_c_per_person"], (r["a_over_c_per_person"] or 0) <= 1.5),
        "a_faster_than_b": check(r["a_over_b_per_person"], (r["a_over_b_per_person"] or 0) < 1),
        "a_faster_than_b2": check(r["a_over_b2_per_person"], (r["a_over_b2_per_person"] or 0) < 1),
        # Issue 18: at least 4 x (b2) per person, and (a) within 25 s at M.
        "a_4x_b2": check(r["b2_over_a_per_person"], (r["b2_over_a_per_person"] or 0) >= 4),
        "a_le_25s_at_M": check(
            m.get("a", {}).get("seconds") if out["size"] == "M" else None,
            (m.get("a", {}).get("seconds") or 0) <= 25,
        ),
        "d_le_10pct_a_zero_writes": check(
            r["d_over_a"],
            (r["d_over_a"] or 0) <= 0.10 and m.get("d", {}).get("keycloak_writes") == 0,
        ),
        "e_le_5pct_a": check(r["e_over_a"], (r["e_over_a"] or 0) <= 0.05),
        "clever_pages": {"collection_pages": pages, "requests": clever, "constant": (clever or 0) - pages},
        "worker_rss": {"peak_kb": rss, "limit_kb": rss_limit, "met": check(rss, (rss or 0) <= rss_limit)},
        "scaleout_ge_1.5": check(r["scaleout_speedup"], (r["scaleout_speedup"] or 0) >= 1.5),
    }


def run(
    labels: list[str],
    methods: tuple[str, ...],
    *,
    peer_sample: int,
    floor_sample: int = 2_000,
    workers: int,
    nodes: int = 1,
    seed: int = 1,
    repeat: int = 1,
) -> dict[str, Any]:
    """Every size, one after the other (``repeat`` rounds each), with the machine's description."""
    services = Services()
    started = time.time()
    sizes = []
    for label in labels:
        rounds = [
            bench_size(
                services,
                label,
                methods=methods,
                peer_sample=peer_sample,
                floor_sample=floor_sample,
                workers=workers,
                nodes=nodes,
                seed=seed,
            )
            for _ in range(repeat)
        ]
        sizes.append(median_of(rounds))
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": machine(services),
        "repeat": repeat,
        "sizes": sizes,
        "total_seconds": round(time.time() - started, 1),
    }


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One size's rounds as one: each method's median time (all kept in ``samples``), worst RSS."""
    merged = rounds[0]
    if len(rounds) == 1:
        return merged
    for key, method in merged["methods"].items():
        samples = [r["methods"][key]["seconds"] for r in rounds if key in r["methods"]]
        method["samples"] = samples
        method["seconds"] = round(statistics.median(samples), 3)
        method["people_per_second"] = (
            round(method["people"] / method["seconds"], 1) if method["seconds"] else None
        )
        cpu_samples = [r["methods"][key]["cpu"] for r in rounds if "cpu" in r["methods"].get(key, {})]
        if cpu_samples:
            method["cpu_samples"] = cpu_samples  # each round's (``cpu`` is the first round's)
        rss = [r["methods"][key].get("worker_peak_rss_kb") for r in rounds if key in r["methods"]]
        if rss and all(isinstance(value, int) for value in rss):
            method["worker_peak_rss_kb"] = max(rss)
    merged["ratio_samples"] = [r["ratios"] for r in rounds]
    merged["ratios"] = ratios(merged["methods"])
    merged["targets"] = targets(merged)
    return merged


def machine(services: Services) -> dict[str, Any]:
    import platform

    with open("/proc/meminfo", encoding="ascii") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_mb": total_kb // 1024,
        "keycloak": services.keycloak_version(),
        "keycloak_backend": services.keycloak_backend,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
        "commit": os.environ.get("BENCH_COMMIT", "working tree"),
    }
