"""Summarise bench/planner_ab.sh's runs: per pair and method the bench's seconds on each tree, the
ratio B/A, the Keycloak calls and the load average after the method; the whole run's wall, Keycloak
JVM CPU and bench CPU (the bench process and its workers) ratios; the geometric mean of each ratio.

``python -m bench.planner_ab_summary OUT_DIR [NAME_A NAME_B] > summary.json`` (names default to
``before`` and ``after``); ``--markdown`` prints the table of bench/README.md instead.
"""

from __future__ import annotations

import glob
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

METHODS = ("a", "d", "d_events", "e")


def load_runs(out_dir: str) -> list[dict[str, Any]]:
    runs = [json.loads(line) for line in Path(out_dir, "runs.jsonl").read_text().splitlines()]
    for run in runs:
        found = glob.glob(os.path.join(out_dir, run["run"], "*.json"))
        bench = json.loads(Path(found[0]).read_text()) if found else None
        run["methods"] = bench["sizes"][0]["methods"] if bench else {}
        run["bench_commit"] = bench["machine"]["commit"] if bench else None
    return runs


def pair_of(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    pair: dict[str, Any] = {"pair": a["pair"], "first": a["tree"] if a["t0"] < b["t0"] else b["tree"]}
    for method in METHODS:
        ma, mb = a["methods"].get(method), b["methods"].get(method)
        if not (ma and mb):
            pair[method] = {"missing_in": [r["tree"] for r, m in ((a, ma), (b, mb)) if not m]}
            continue
        pair[method] = {
            "seconds": [ma["seconds"], mb["seconds"]],
            "ratio": round(mb["seconds"] / ma["seconds"], 3),
            "keycloak_calls": [ma["keycloak_http_calls"], mb["keycloak_http_calls"]],
            "keycloak_writes": [ma["keycloak_writes"], mb["keycloak_writes"]],
            "status": [ma["status"], mb["status"]],
            "errors": [ma["error_count"], mb["error_count"]],
            "load_average_after": [ma["load_average_after"], mb["load_average_after"]],
        }
    pair["whole_run"] = {
        key: {"values": [a[key], b[key]], "ratio": round(b[key] / a[key], 3)}
        for key in ("wall_s", "jvm_cpu_s", "bench_cpu_s")
        if a[key] and b[key]
    }
    pair["load"] = {
        a["tree"]: [a["load_before"], a["load_after"]],
        b["tree"]: [b["load_before"], b["load_after"]],
    }
    return pair


def geometric_mean(values: list[float]) -> float | None:
    return round(math.exp(sum(map(math.log, values)) / len(values)), 3) if values else None


def summary(out_dir: str, name_a: str, name_b: str) -> dict[str, Any]:
    runs = load_runs(out_dir)
    by = {(r["tree"], r["pair"]): r for r in runs}
    pairs = [
        pair_of(by[(name_a, n)], by[(name_b, n)])
        for n in sorted({r["pair"] for r in runs})
        if (name_a, n) in by and (name_b, n) in by
    ]
    means = {m: geometric_mean([p[m]["ratio"] for p in pairs if "ratio" in p[m]]) for m in METHODS}
    for key in ("wall_s", "jvm_cpu_s", "bench_cpu_s"):
        means[f"whole_run_{key}"] = geometric_mean(
            [p["whole_run"][key]["ratio"] for p in pairs if key in p["whole_run"]]
        )
    return {
        "ratio": f"{name_b} / {name_a}",
        "commits": {name_a: by_tree(runs, name_a), name_b: by_tree(runs, name_b)},
        "geometric_mean_ratio": means,
        "pairs": pairs,
        "runs": [{k: v for k, v in r.items() if k != "methods"} for r in runs],
    }


def by_tree(runs: list[dict[str, Any]], name: str) -> list[str]:
    return sorted({r["commit"] for r in runs if r["tree"] == name})


def markdown(result: dict[str, Any]) -> str:
    a, b = result["ratio"].split(" / ")[::-1]
    lines = [
        f"| pair (first) | (a) s {b} / {a} | ratio | (d) s | ratio | (e) s | ratio | load after a, d, e |",
        "|---|---|---:|---|---:|---|---:|---|",
    ]
    for p in result["pairs"]:
        cells = [f"{p['pair']} ({p['first']})"]
        loads = []
        for m in ("a", "d", "e"):
            x = p[m]
            if "ratio" not in x:
                cells += ["missing in " + ", ".join(x["missing_in"]), "–"]
                continue
            cells += [f"{x['seconds'][1]:.1f} / {x['seconds'][0]:.1f}", f"{x['ratio']:.2f}"]
            loads.append("/".join(f"{la[0]:.1f}" for la in x["load_average_after"][::-1]))
        cells.append(", ".join(loads))
        lines.append("| " + " | ".join(cells) + " |")
    g = result["geometric_mean_ratio"]
    lines.append(f"| geometric mean | | **{g['a']:.2f}** | | **{g['d']:.2f}** | | **{g['e']:.2f}** | |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    flags = [x for x in argv if x.startswith("--")]
    args = [x for x in argv if not x.startswith("--")]
    out_dir, name_a, name_b = [*args, "before", "after"][:3] if len(args) < 3 else args[:3]
    result = summary(out_dir, name_a, name_b)
    if "--markdown" in flags:
        print(markdown(result))
    else:
        json.dump(result, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
