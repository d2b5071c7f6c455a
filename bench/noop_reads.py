"""Where a no-op full run's reads go: each read alone, twice, after a full sync (a) of a fresh realm
(issue 28).

``BENCH_SERVICES_ENV=var/services.env python -m bench.noop_reads M``: prints one line a read and
the whole as JSON; the realm and OU are removed afterwards. ``rest_brief_read`` is what a full run
read before the extension's rows (``keycloak_read.read_known``: the tree a level at a time, the
links, a brief listing of the accounts); ``rows_read`` is ``read_state`` through
``clever-sync/state`` (``connectors.keycloak_rows``), split into its parts above it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.env import Services
from bench.run import bench_sandbox
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.keycloak_http import KeycloakHttp
from connectors.keycloak_people import ldap_providers
from connectors.keycloak_read import read_known, read_links, read_state
from connectors.keycloak_rows import read_tree_rows, user_reps
from connectors.ldap import LdapDirectory
from plugin.config.settings import Settings
from plugin.sso.broker import ensure_broker
from plugin.sync.pipeline import run_sync
from plugin.sync.run_options import RunOptions
from sandbox.server import serve


def timed(label: str, read: Callable[[], Any], out: dict[str, float]) -> Any:
    start = time.perf_counter()
    value = read()
    out[label] = round(time.perf_counter() - start, 2)
    print(label, out[label], flush=True)
    return value


def reads(http: KeycloakHttp, settings: Settings, suffix: str, out: dict[str, float]) -> None:
    """Each read once, its seconds in ``out`` under ``<read>_<suffix>``."""
    timed(f"rows_tree_{suffix}", lambda: read_tree_rows(http, "Clever"), out)
    timed(f"rows_users_{suffix}", lambda: list(user_reps(http, extension=True)), out)
    timed(f"links_{suffix}", lambda: read_links(http, extension=True), out)
    timed(f"providers_{suffix}", lambda: ldap_providers(http), out)
    rows = timed(
        f"rows_read_{suffix}", lambda: read_state(http, "Clever", extension=True, with_members=False), out
    )
    ids = {clever_id: user.keycloak_id for clever_id, user in rows.directory.users.items()}
    others = {account.keycloak_id for account in rows.accounts}
    brief = lambda: read_known(http, "Clever", ids=ids, others=others, dns={}, extension=True)  # noqa: E731
    timed(f"rest_brief_read_{suffix}", brief, out)
    timed(f"ldap_groups_read_{suffix}", lambda: LdapDirectory(settings.ldap).current(), out)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    size = sys.argv[1] if len(sys.argv) > 1 else "M"
    services = Services()
    app, state = bench_sandbox(size)
    out: dict[str, float] = {}
    with serve(app) as url, services.place(url, state.district_id, "reads") as place:
        settings = place.settings(services.env)
        ensure_broker(services.admin(place.realm), settings)
        timed(
            "a_full_sync",
            lambda: run_sync(settings, RunOptions(full=True), district_id=state.district_id),
            out,
        )
        for suffix in ("1", "2"):
            reads(KeycloakDirectory(admin_client(settings.keycloak)).http, settings, suffix, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
