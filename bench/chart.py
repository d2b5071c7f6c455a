"""The results as a Markdown table and PNG charts: time against size and the worker's peak memory
against size, one line per method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {
    "a": "(a) our full sync",
    "a_rest": "(a) our full sync, REST only (no extension)",
    "b": "(b) Keycloak LDAP full sync",
    "b2": "(b2) Keycloak LDAP sync + group mapper",
    "c": "(c) partialImport floor",
    "d": "(d) our no-op resync (full)",
    "d_events": "(d') no-op, Events check",
    "e": "(e) our incremental (1%)",
    "scaleout": "our full sync, scale-out",
}


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    """One row per size and method, then one row of ratios per size."""
    lines = [
        "| size | method | people | s | people/s | Keycloak calls (writes) | Clever req. | LDAP writes "
        "| worker peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in results["sizes"]:
        for key, label in LABELS.items():
            m = size["methods"].get(key)
            if not m:
                continue
            people = m["people"]
            if m.get("sampled"):
                label += f" (sample of {m['sample_size']})"
            rss = m.get("worker_peak_rss_kb")
            rss_mb = (
                "/".join(f"{r / 1024:.0f}" for r in rss)
                if isinstance(rss, list)
                else _fmt(rss and rss / 1024, 0)
            )
            writes = f" ({m['keycloak_writes']})" if "keycloak_writes" in m else ""
            lines.append(
                f"| {size['size']} | {label} | {people} | {_fmt(m['seconds'], 1)} "
                f"| {_fmt(m['people_per_second'], 1)} | {_fmt(m.get('keycloak_http_calls'))}{writes} "
                f"| {_fmt(m.get('clever_requests'))} | {_fmt(m.get('ldap_writes'))} | {rss_mb} |"
            )
    lines += [
        "",
        "| size | (a)/(c) per person | (a)/(b) per person | (a)/(b2) per person | (b2)/(a) per person "
        "| REST ÷ extension | (d)/(a) | (d')/(a) | (e)/(a) | 2 workers ÷ 1 |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in results["sizes"]:
        r = size["ratios"]
        lines.append(
            f"| {size['size']} | {_fmt(r['a_over_c_per_person'])} | {_fmt(r['a_over_b_per_person'])} "
            f"| {_fmt(r.get('a_over_b2_per_person'))} | {_fmt(r.get('b2_over_a_per_person'))} "
            f"| {_fmt(r.get('a_rest_over_a'))} "
            f"| {_fmt(r['d_over_a'], 3)} | {_fmt(r['d_events_over_a'], 3)} | {_fmt(r['e_over_a'], 3)} "
            f"| {_fmt(r['scaleout_speedup'])} |"
        )
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    """Seconds against people (log-log), one line per method; (b) is marked where it was sampled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    for key, label in LABELS.items():
        points = [
            (
                s["methods"][key]["people"],
                s["methods"][key]["seconds"],
                s["methods"][key].get("sampled", False),
            )
            for s in results["sizes"]
            if key in s["methods"]
        ]
        if not points:
            continue
        xs, ys, sampled = zip(*points, strict=True)
        if any(sampled):
            label += " (people = sample size)"
        axes.plot(xs, ys, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("people synced (Keycloak accounts)")
    axes.set_ylabel("wall time, seconds")
    machine = results["machine"]
    backend = machine.get("keycloak_backend", "dev-file")  # results before it was recorded: dev-file
    axes.set_title(
        f"keycloak-clever bench — {machine['nproc']} cores, Keycloak {machine['keycloak']} on {backend}"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _peak_mb(method: dict[str, Any]) -> float | None:
    """The worker's peak RSS in MB (the largest of a scale-out run's workers)."""
    rss = method.get("worker_peak_rss_kb")
    if isinstance(rss, list):
        rss = max(rss, default=None)
    return rss / 1024 if rss else None


def memory(results: dict[str, Any], path: Path) -> None:
    """The worker's peak RSS against people (linear axes), one line per method: whether the memory
    grows with the district (issue 28's target: at XL at most 1.5 x the peak at M)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    for key, label in LABELS.items():
        points = sorted(
            (s["methods"][key]["people"], peak)
            for s in results["sizes"]
            if key in s["methods"] and (peak := _peak_mb(s["methods"][key])) is not None
        )
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", label=label)
            for x, y in points:
                axes.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel("people synced (Keycloak accounts)")
    axes.set_ylabel("worker peak RSS, MB")
    axes.set_ylim(bottom=0)
    machine = results["machine"]
    axes.set_title(f"worker memory by district size — Keycloak {machine['keycloak']}")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def compare(runs: list[dict[str, Any]], path: Path) -> None:
    """Bars of seconds per method, one bar per run labelled by its Keycloak backend (log scale):
    the same methods on PostgreSQL and on dev-file, side by side, for every size the runs share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s["size"] for s in runs[0]["sizes"] if all(_size(r, s["size"]) for r in runs)]
    keys = [
        k
        for k in LABELS
        if any(k in (_size(r, size) or {}).get("methods", {}) for r in runs for size in sizes)
    ]
    figure, axes = plt.subplots(figsize=(10, 5.5), dpi=110)
    width = 0.8 / max(1, len(runs) * len(sizes))
    for n, (run, size) in enumerate((run, size) for size in sizes for run in runs):
        methods = (_size(run, size) or {})["methods"]
        xs = [i + (n - (len(runs) * len(sizes) - 1) / 2) * width for i in range(len(keys))]
        ys = [methods.get(k, {}).get("seconds", 0) or 0 for k in keys]
        backend = run["machine"].get("keycloak_backend", "dev-file")
        bars = axes.bar(xs, ys, width, label=f"{size} on {backend}")
        axes.bar_label(
            bars,
            labels=[(f"{y:.1f}" if y >= 1 else f"{y:.2f}") if y else "" for y in ys],
            fontsize=7,
            padding=2,
        )
    axes.set_xticks(
        range(len(keys)),
        [LABELS[k].replace(" (no extension)", "") for k in keys],
        rotation=20,
        ha="right",
        fontsize=8,
    )
    axes.set_yscale("log")
    axes.set_ylabel("wall time, seconds (log)")
    machine = runs[-1]["machine"]
    axes.set_title(f"keycloak-clever bench — {machine['nproc']} cores, Keycloak {machine['keycloak']}")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _size(run: dict[str, Any], label: str) -> dict[str, Any] | None:
    return next((s for s in run["sizes"] if s["size"] == label), None)


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several result files as one: per size, a later file's method replaces an earlier one's."""
    sizes: dict[str, dict[str, Any]] = {}
    for run in runs:
        for size in run["sizes"]:
            merged = sizes.setdefault(size["size"], {**size, "methods": {}})
            merged["methods"].update(size["methods"])
    machine = dict(runs[-1]["machine"])
    machine["commit"] = ", ".join(str(run["machine"].get("commit")) for run in runs)
    return {"machine": machine, "sizes": list(sizes.values())}


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.chart RESULTS.json [MORE.json ...] -o chart.png [--compare | --memory]``: one
    chart from several runs (``--compare``: bars per method, a bar per run; ``--memory``: the worker's
    peak RSS against people)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.chart", description=main.__doc__)
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument(
        "--compare", action="store_true", help="bars per method, one per run (e.g. PostgreSQL and dev-file)"
    )
    parser.add_argument("--memory", action="store_true", help="the worker's peak RSS against people")
    args = parser.parse_args(argv)
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.results]
    if args.compare:
        compare(runs, args.output)
    elif args.memory:
        memory(merge(runs), args.output)
    else:
        chart(merge(runs), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
