"""What a full no-op resync would still write, and why (issue 28: "(d) ... 0 writes").

``python -m bench.noop_writes --size XL``: a fresh realm and OU, our full sync (a), then a full run
planned as a dry run in this process; each account or group the plan would still update is printed
with the fields that differ (as Keycloak holds them, as the roster wants them), each membership it
would add or remove with its group. Clever ids and keys only: no names leave the realm but the
fields that differ, and this is a bench district (the sandbox's made-up people).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bench.env import Services
from bench.run import bench_sandbox
from connectors.clever import CleverClient
from plugin.sso.broker import ensure_broker
from plugin.sync.applied import Applied
from plugin.sync.pipeline import run_sync
from plugin.sync.planner import RunContext, plan_run
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noop_writes", description=__doc__)
    parser.add_argument("--size", default="S")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    services = Services()
    app, state = bench_sandbox(args.size)
    with serve(app) as url, services.place(url, state.district_id, "noop") as place:
        settings = place.settings(services.env)
        ensure_broker(services.admin(place.realm), settings)
        report = run_sync(settings, RunOptions(full=True), district_id=state.district_id)
        print("(a)", report.status, report.writes, flush=True)
        run = RunOptions(full=True, dry_run=True)
        again = SyncReport(district_id=state.district_id, dry_run=True)
        applied = Applied.from_url(settings.redis_url, settings.keycloak.realm, state.district_id)
        planned = plan_run(RunContext(settings, run, again, applied), CleverClient(settings.clever), None)
        if planned is None:
            print("no plan")
            return 1
        empty = planned.plan.empty and planned.ldap_plan.empty
        print("the full no-op would write nothing" if empty else "the full no-op would write:")
        _print(planned)
    return 0


def _print(planned: Any) -> None:
    plan, current, desired = planned.plan, planned.current, planned.mapped.desired
    by_id = {user.keycloak_id: user for user in current.users.values()}
    for update in plan.update_users:
        have = by_id.get(update.keycloak_id)
        want = desired.users.get(update.clever_id)
        print("update user", update.clever_id, update.kind, "link" if update.link else "")
        for name, value in update.fields.items():
            print("   field", name, "have", _field(have, name), "want", repr(value))
        for name, value in update.attributes.items():
            print("   attribute", name, "have", have.attributes.get(name) if have else None, "want", value)
        if want is not None and have is not None and want.username != have.username:
            print("   username have", have.username, "want", want.username)
    for keycloak_id, spec in plan.update_groups:
        group = current.groups.get(spec.key)
        print("update group", spec.key, keycloak_id)
        if group is not None and group.name != spec.name:
            print("   name have", group.name, "want", spec.name)
        for name in sorted(set(spec.attributes) | set(group.attributes if group else {})):
            have_value = group.attributes.get(name) if group else None
            if have_value != spec.attributes.get(name):
                print("   attribute", name, "have", have_value, "want", spec.attributes.get(name))
    for change, memberships in (("add", plan.add_members), ("remove", plan.remove_members)):
        for membership in memberships:
            print(change, "member", membership)
    ldap = planned.ldap_plan
    for name in ("create", "rename", "add_members", "remove_members", "set_owners"):
        for entry in getattr(ldap, name)[:20]:
            print("ldap", name, entry)


def _field(user: Any, name: str) -> Any:
    names = {"firstName": "first_name", "lastName": "last_name", "email": "email", "enabled": "enabled"}
    return getattr(user, names.get(name, name), None) if user is not None else None


if __name__ == "__main__":
    raise SystemExit(main())
