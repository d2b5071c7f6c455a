"""Summarise bench/slowdown_ab.sh's runs: per run and phase (a, d, e) the bench's wall seconds and
Keycloak calls, the Keycloak JVM's CPU seconds in that phase (JFR ``jdk.CPULoad``, one a second) and
the load average after it; then the 26.7.3/26.5.6 ratio of each pair.

``python -m bench.slowdown_summary OUT_DIR > summary.json``
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path


def cpu_series(jfr: str) -> list[tuple[str, float]]:
    text = subprocess.run(
        ["jfr", "print", "--events", "jdk.CPULoad", jfr], capture_output=True, text=True, check=True
    ).stdout
    out = []
    cores = os.cpu_count() or 1
    for block in text.split("jdk.CPULoad {")[1:]:
        t = re.search(r"startTime = (\d\d:\d\d:\d\d)", block).group(1)
        user = float(re.search(r"jvmUser = ([\d.]+)%", block).group(1))
        system = float(re.search(r"jvmSystem = ([\d.]+)%", block).group(1))
        out.append((t, (user + system) / 100 * cores))
    return out


def main() -> None:
    out_dir = sys.argv[1]
    runs = [json.loads(line) for line in Path(out_dir, "runs.jsonl").read_text().splitlines()]
    result = {"runs": [], "pairs": []}
    for run in runs:
        tag = run["run"]
        log = Path(out_dir, f"{tag}.log").read_text()
        ends = {
            m.group(2): m.group(1) for m in re.finditer(r" (\d\d:\d\d:\d\d),\d+ bench \w+ \((\w)\) ", log)
        }
        bench = json.loads(Path(glob.glob(os.path.join(out_dir, tag, "*.json"))[0]).read_text())
        size = bench["sizes"][0]
        methods = size["methods"]
        series = cpu_series(os.path.join(out_dir, f"{tag}.jfr"))

        def window(start: str, end: str, series: list[tuple[str, float]] = series) -> float:
            return round(sum(c for t, c in series if start < t <= end), 1)

        def minus(t: str, seconds: float) -> str:
            return (dt.datetime.strptime(t, "%H:%M:%S") - dt.timedelta(seconds=seconds)).strftime("%H:%M:%S")

        windows = {
            "a": (minus(ends["a"], methods["a"]["seconds"]), ends["a"]),
            "d": (ends["a"], ends["d"]),
            "e": (ends["d"], ends["e"]),
        }
        phases = {}
        for phase, (start, end) in windows.items():
            m = methods[phase]
            phases[phase] = {
                "seconds": m["seconds"],
                "keycloak_calls": m["keycloak_http_calls"],
                "keycloak_calls_by_method": m["keycloak_calls"],
                "window": [start, end],
                "keycloak_jvm_cpu_seconds": window(start, end),
                "load_average_after": m["load_average_after"],
            }
        result["runs"].append(run | {"phases": phases, "bench_started": bench["started"]})
    by = {(r["keycloak"], r["round"]): r for r in result["runs"]}
    for rnd in sorted({r["round"] for r in result["runs"]}):
        new, old = by.get(("26.7.3", rnd)), by.get(("26.5.6", rnd))
        if not (new and old):
            continue
        pair = {"round": rnd, "order": "26.7.3 first" if new["t0"] < old["t0"] else "26.5.6 first"}
        for phase in ("a", "d", "e"):
            n, o = new["phases"][phase], old["phases"][phase]
            pair[phase] = {
                "seconds": [n["seconds"], o["seconds"]],
                "wall_ratio": round(n["seconds"] / o["seconds"], 2),
                "jvm_cpu_seconds": [n["keycloak_jvm_cpu_seconds"], o["keycloak_jvm_cpu_seconds"]],
                "jvm_cpu_ratio": round(n["keycloak_jvm_cpu_seconds"] / o["keycloak_jvm_cpu_seconds"], 2),
                "load_after": [n["load_average_after"], o["load_average_after"]],
            }
        pair["whole_run"] = {
            "wall_ratio": round(new["wall_s"] / old["wall_s"], 2),
            "jvm_cpu_ratio": round(new["jvm_cpu_s"] / old["jvm_cpu_s"], 2),
            "postgres_cpu_ratio": round(new["postgres_cpu_s"] / old["postgres_cpu_s"], 2),
        }
        result["pairs"].append(pair)
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
