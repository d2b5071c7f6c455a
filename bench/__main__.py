"""``python -m bench --sizes S,M [--methods a,b,c,d,e,scaleout] [--out bench/results] [--workers 2]``
(``--nodes 2``: the scale-out's workers on two Keycloak nodes)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path

from bench.chart import chart, table
from bench.run import METHODS, SIZES, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="S,M,L", help=f"comma-separated: {', '.join(SIZES)} or a number")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ",".join(METHODS))
    parser.add_argument("--out", default="bench/results", help="directory for the JSON and the PNG")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers for the scale-out run")
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="Keycloak nodes the scale-out's workers use in turn (2: KEYCLOAK_NODES=2 scripts/services up)",
    )
    parser.add_argument(
        "--peer-sample", type=int, default=20_000, help="at most this many people for (b), Keycloak's sync"
    )
    parser.add_argument(
        "--floor-sample", type=int, default=2_000, help="at most this many people for (c), the import floor"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per size; each method's median is reported"
    )
    args = parser.parse_args(argv)
    # A killed run still deletes its realm and OU (the ``finally`` blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("connectors").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods: {sorted(unknown)}")
    results = run(
        sizes,
        methods,
        peer_sample=args.peer_sample,
        floor_sample=args.floor_sample,
        workers=args.workers,
        nodes=args.nodes,
        seed=args.seed,
        repeat=args.repeat,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y-%m-%d', time.gmtime())}-{'-'.join(sizes)}"
    (out / f"{stem}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    chart(results, out / f"{stem}.png")
    print(table(results))
    print(f"\nwrote {out / stem}.json and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
