"""Scale-out: one district's sync shared by several RQ workers, by school, under one district lock.

Kept apart from ``plugin.sync.pipeline``/``plugin.runs.jobs`` (whose single-job run is
unchanged); it uses the full run's own fetch, map and plan (``plugin.sync.planner.plan_run``).
Three kinds of job, all safe to run twice (every write is create-if-missing):

* ``prepare_job``: fetch, read the realm, map and plan once (the brake too); write the group tree
  (Keycloak and LDAP) and the User Profile; split the schools into ``shards`` groups balanced by
  people and enqueue one ``shard_job`` per group with *its part of the plan* (the people whose
  first in-scope school, by id, is one of its schools; people with no school and departed accounts
  go to shard 0), and a ``finish_job`` that depends on all of them.
* ``shard_job``: apply the part of the plan it was given, as JSON (no second read of Clever or the
  realm; RQ jobs are JSON only, ``plugin.runs.queues``).
* ``finish_job``: move the event cursor and release the district lock.

Reads happen once, in the prepare job; the shards only write, so two workers share the writes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rq import Queue

from connectors.clever import CleverClient
from connectors.keycloak import KeycloakDirectory, admin_client
from model.state import DesiredState, DirectoryState, Plan
from plugin.config.settings import Settings
from plugin.runs import takeover
from plugin.runs.jobs import queue_for
from plugin.runs.state import SyncState
from plugin.sync.applied import Applied
from plugin.sync.desired import Mapped
from plugin.sync.plan_json import groups_from_json, groups_to_json, plan_from_json, plan_to_json
from plugin.sync.planned import Planned
from plugin.sync.planner import RunContext, plan_run
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions

JOB_TIMEOUT = 4 * 3600


def _pipeline(settings: Settings, district_id: str) -> tuple[CleverClient, Planned]:
    """Fetch, read, map and plan the whole district: the full run's own stages (``plan_run``),
    every member list read (``verify``), the User Profile ensured before the name match."""
    client = CleverClient(settings.clever)
    run = RunOptions(full=True, verify=True, trigger="scale-out", started_by="scale-out (sharded run)")
    report = SyncReport(district_id=district_id, trigger=run.trigger)
    applied = Applied.from_url(settings.redis_url, settings.keycloak.realm, district_id)
    planned = plan_run(RunContext(settings, run, report, applied), client, None)
    assert planned is not None  # a full run always plans
    return client, planned


def assign_schools(mapped: Mapped, shards: int) -> list[list[str]]:
    """Schools split into ``shards`` groups of about the same number of people (largest first)."""
    people: dict[str, int] = dict.fromkeys(mapped.school_names, 0)
    for spec in mapped.desired.users.values():
        owner = _owner_school(spec.attributes)
        if owner in people:
            people[owner] += 1
    groups: list[list[str]] = [[] for _ in range(shards)]
    loads = [0] * shards
    for school, count in sorted(people.items(), key=lambda item: (-item[1], item[0])):
        lightest = loads.index(min(loads))
        groups[lightest].append(school)
        loads[lightest] += count
    return groups


def _owner_school(attributes: Mapping[str, tuple[str, ...]]) -> str:
    schools = attributes.get("clever_school_ids") or attributes.get("clever_schools") or ()
    return sorted(schools)[0] if schools else ""


def prepare_job(
    district_id: str, run_id: str, shards: int, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Write the group tree, then enqueue the shards and the finish job; returns what it did."""
    started = time.time()
    settings = settings or Settings.from_env()
    client, planned = _pipeline(settings, district_id)
    if planned.brake:
        SyncState.from_url(settings.redis_url).release(district_id, run_id)
        return {"status": "held", "reasons": planned.brake}
    plan, mapped, keycloak, ldap = planned.plan, planned.mapped, planned.keycloak, planned.ldap
    groups_only = Plan(create_groups=plan.create_groups, update_groups=plan.update_groups)
    failures = keycloak.apply(groups_only, mapped.desired)
    ldap_failures = ldap.apply(planned.ldap_plan)
    schools = assign_schools(mapped, shards)
    queue = queue_for(settings)
    groups = dict(mapped.desired.groups)
    jobs = [
        queue.enqueue(
            shard_job,
            district_id,
            run_id,
            n,
            plan_to_json(owned_plan(plan, mapped, planned.current, frozenset(schools[n]), n)),
            groups_to_json(groups),
            dict(keycloak.group_ids),
            job_timeout=JOB_TIMEOUT,
        )
        for n in range(shards)
    ]
    queue.enqueue(
        finish_job, district_id, run_id, planned.event_cursor, depends_on=jobs, job_timeout=JOB_TIMEOUT
    )
    return {
        "status": "ok",
        "started": started,
        "finished": time.time(),
        "schools": schools,
        "shard_jobs": [job.id for job in jobs],
        "writes": {"keycloak": keycloak.http.writes, "ldap": ldap.counts.writes},
        "calls": dict(keycloak.calls),
        "clever_requests": client.requests_made,
        "errors": [str(f) for f in [*failures, *ldap_failures]],
    }


def shard_job(
    district_id: str,
    run_id: str,
    shard: int,
    plan_json: Mapping[str, Any],
    groups_json: Mapping[str, Any],
    group_ids: Mapping[str, str],
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Apply one shard's part of the plan (JSON, ``plugin.sync.plan_json``); returns counts and failures."""
    started = time.time()
    plan, groups = plan_from_json(plan_json), groups_from_json(groups_json)
    settings = settings or Settings.from_env()
    keycloak = KeycloakDirectory(
        admin_client(settings.keycloak), bulk=settings.keycloak.bulk, health_url=settings.keycloak.health_url
    )
    keycloak.group_ids = dict(group_ids)
    failures = keycloak.apply(plan, DesiredState(groups=groups, users={}))
    return {
        "shard": shard,
        "district_id": district_id,
        "run_id": run_id,
        "started": started,
        "finished": time.time(),
        "people": len(plan.create_users) + len(plan.update_users),
        "keycloak_url": settings.keycloak.url,  # which Keycloak node took the writes
        "writes": {"keycloak": keycloak.http.writes, "ldap": 0},
        "calls": dict(keycloak.calls),
        "clever_requests": 0,
        "errors": [f"{f.kind} {f.clever_id}: {f}" for f in failures],
    }


def owned_plan(
    plan: Plan, mapped: Mapped, current: DirectoryState, schools: frozenset[str], shard: int
) -> Plan:
    """The user writes of ``plan`` that belong to this shard (groups were written by prepare)."""
    by_keycloak_id = {user.keycloak_id: clever_id for clever_id, user in current.users.items()}

    def owns(clever_id: str) -> bool:
        spec = mapped.desired.users.get(clever_id)
        if spec is None:  # a departed account: shard 0 disables it and empties its groups
            return shard == 0
        owner = _owner_school(spec.attributes)
        return owner in schools or (not owner and shard == 0)

    def member_owned(m: Any) -> bool:
        return owns(m.clever_id or by_keycloak_id.get(m.keycloak_id, m.keycloak_id))

    return replace(
        Plan(),
        create_users=tuple(s for s in plan.create_users if owns(s.clever_id)),
        update_users=tuple(u for u in plan.update_users if owns(u.clever_id)),
        add_members=tuple(m for m in plan.add_members if member_owned(m)),
        remove_members=tuple(m for m in plan.remove_members if member_owned(m)),
        disable_users=tuple(u for u in plan.disable_users if owns(u.clever_id)),
        retire_groups=plan.retire_groups if shard == 0 else (),
    )


def finish_job(
    district_id: str, run_id: str, event_cursor: str | None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """After every shard: move the cursor and release the district lock."""
    settings = settings or Settings.from_env()
    state = SyncState.from_url(settings.redis_url)
    if event_cursor:
        state.set_cursor(district_id, event_cursor)
    state.release(district_id, run_id)
    return {"finished": time.time()}


def trigger_sharded(settings: Settings, district_id: str, shards: int) -> tuple[str, bool]:
    """Queue a sharded sync of ``district_id`` under its lock, like ``plugin.runs.jobs.trigger_sync``."""
    run_id = uuid.uuid4().hex[:12]
    running = takeover.acquire(SyncState.from_url(settings.redis_url), district_id, run_id)
    if running is not None:
        return running, False
    queue: Queue = queue_for(settings)
    queue.enqueue(prepare_job, district_id, run_id, shards, job_id=f"sync-{run_id}", job_timeout=JOB_TIMEOUT)
    return run_id, True
