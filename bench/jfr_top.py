"""Aggregate a JFR recording's execution samples between two times, for the A/B of two Keycloaks.

``python -m bench.jfr_top FILE.jfr [--since HH:MM:SS] [--until HH:MM:SS] [--top 30] [--depth 64]``

Prints the number of samples, the JVM's CPU seconds in that window (from ``jdk.CPULoad``, one a
second: jvmUser + jvmSystem, a fraction of the machine, times the cores), the top self frames, and
the top frames counted once per sample anywhere in its stack (inclusive), keeping only
``org.keycloak``, ``org.hibernate``, ``org.postgresql``, ``io.agroal`` and ``org.infinispan``
frames for that second list (where Keycloak spends its time, not the JDK's leaves).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess

START = re.compile(r"startTime = (\d\d:\d\d:\d\d)\.(\d+)")
FRAME = re.compile(r"^\s+([\w.$<>]+)\(")
INTERESTING = ("org.keycloak", "org.hibernate", "org.postgresql", "io.agroal", "org.infinispan")


def events(path: str, kind: str, depth: int) -> list[tuple[str, list[str], dict[str, str]]]:
    text = subprocess.run(
        ["jfr", "print", "--stack-depth", str(depth), "--events", kind, path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = []
    for block in text.split(f"{kind} {{")[1:]:
        m = START.search(block)
        if not m:
            continue
        frames = [f.group(1) for line in block.splitlines() if (f := FRAME.match(line))]
        fields = dict(re.findall(r"^\s+(\w+) = ([^\n]+)$", block, re.M))
        out.append((m.group(1), frames, fields))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("jfr")
    parser.add_argument("--since", default="00:00:00")
    parser.add_argument("--until", default="99:99:99")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--depth", type=int, default=64)
    args = parser.parse_args()

    def inside(t: str) -> bool:
        return args.since <= t <= args.until

    cpu = 0.0
    for t, _, fields in events(args.jfr, "jdk.CPULoad", 1):
        if inside(t):
            cpu += (float(fields["jvmUser"].rstrip("%")) + float(fields["jvmSystem"].rstrip("%"))) / 100
    cores = os.cpu_count() or 1
    samples = [
        (t, frames) for t, frames, _ in events(args.jfr, "jdk.ExecutionSample", args.depth) if inside(t)
    ]
    selfs = collections.Counter(frames[0] for _, frames in samples if frames)
    inclusive: collections.Counter[str] = collections.Counter()
    for _, frames in samples:
        inclusive.update({f for f in frames if f.startswith(INTERESTING)})
    print(f"{args.jfr} {args.since}..{args.until}: {len(samples)} samples, JVM CPU {cpu * cores:.1f} s")
    print(f"  top self frames (of {len(samples)}):")
    for frame, n in selfs.most_common(args.top):
        print(f"    {n:6d} {100 * n / max(1, len(samples)):5.1f}%  {frame}")
    print("  top Keycloak/Hibernate/JDBC frames, once per sample:")
    for frame, n in inclusive.most_common(args.top):
        print(f"    {n:6d} {100 * n / max(1, len(samples)):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
