"""Profile our full sync, the no-op resync and the 1% incremental run in-process (pyinstrument).

``python -m bench.profile --size S [--out bench/results]``: a fresh realm and OU, (a), (d) then (e),
each under pyinstrument; the text reports are written beside the results.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pyinstrument import Profiler

from bench.env import Services
from bench.ours import mutate_one_percent
from bench.run import bench_sandbox
from plugin.sso.broker import ensure_broker
from plugin.sync.pipeline import Start, run_sync
from plugin.sync.run_options import RunOptions
from sandbox.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size", default="S")
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    services = Services()
    app, state = bench_sandbox(args.size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with serve(app) as url, services.place(url, state.district_id, "prof") as place:
        settings = place.settings(services.env)
        ensure_broker(services.admin(place.realm), settings)
        cursor = None
        for name, full in (("a-full-sync", True), ("d-noop-resync", True), ("e-incremental", False)):
            if name == "e-incremental":
                mutate_one_percent(state, len(state.store.ids("all", "users", state.district_id)) // 2, 1)
            profiler = Profiler(interval=0.005)
            profiler.start()
            report = run_sync(
                settings, RunOptions(full=full), district_id=state.district_id, start=Start(cursor)
            )
            profiler.stop()
            cursor = report.preview.get("event_cursor") or cursor
            path = out / f"profile-{args.size}-{name}.txt"
            path.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
            print(name, report.status, report.writes, dict(report.calls), f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
