"""(e)'s Clever side alone, on a tree with the one planner (issue 25, bench/README.md "One planner,
before and after"): the bench's sandbox at M (seed 1), ``bench.ours.mutate_one_percent``, then
``events_since`` and ``events_snapshot`` with a counted ``CleverClient``, three times. No Keycloak,
Redis or LDAP is touched (Settings are only read from the services.env file).

    cd TREE && PYTHONPATH=. python bench/e_clever_reads.py var/services.env
"""

import sys
import time

from bench import ours
from bench.env import Ou, Place, load_env_file
from connectors.clever import CleverClient
from plugin.sync.report import SyncReport
from plugin.sync.snapshot_events import events_since, events_snapshot
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.server import serve

PEOPLE = 10_612  # the bench's people at M
TOTALS = {"students": 10_000, "teachers": 510, "staff": 100, "classes": 3_062}  # as a full run counts

env = load_env_file(sys.argv[1])
app = create_app(SandboxConfig(size=10_000, seed=1, rate_limit=10**7))
state = app.extensions["clever_sandbox"]
with serve(app) as url:
    district = state.district_id
    settings = Place("unused", Ou("", "", ""), "redis://unused", url, district).settings(env)
    cursor = CleverClient(settings.clever).latest_event_id(district)
    print("changed", ours.mutate_one_percent(state, PEOPLE, 1))
    for attempt in range(3):
        client = CleverClient(settings.clever)
        t0 = time.perf_counter()
        events = events_since(client, cursor, SyncReport(district_id=district)) or []
        t1, r1 = time.perf_counter(), client.requests_made
        snap = events_snapshot(client, district, events, settings.options, TOTALS)
        t2 = time.perf_counter()
        print(
            f"try {attempt + 1}: events {len(events)} in {t1 - t0:.2f} s ({r1} requests); snapshot "
            f"{t2 - t1:.2f} s ({client.requests_made - r1} requests); people decided {len(snap.scope.people)}"
        )
