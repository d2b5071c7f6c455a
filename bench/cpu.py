"""CPU seconds a method costs each process that does the work: the workers, each Keycloak JVM, PostgreSQL.

Read from ``/proc/<pid>/stat`` (user + system time) before and after a method, as
``bench/slowdown_ab.sh`` does, with two differences: PostgreSQL counts its exited backends too (the
postmaster's ``cutime + cstime``: a backend that exits during a run is folded in there when the
postmaster reaps it, which the script's sum of live processes missed), and the workers are this
process's reaped children (``RUSAGE_CHILDREN``: the bench's burst workers, ``SimpleWorker``s that run
jobs in themselves). ``bench`` is this process (the sandbox Clever serving pages, and the bench).
CPU seconds do not depend on what else runs on the shared machine the way wall seconds do.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def _fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` after the command name: [state, ppid, ...]; utime is index 11."""
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    return text[text.rindex(")") + 2 :].split()


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text(encoding="ascii", errors="replace").strip()


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_seconds(pid: int, *, children: bool = False) -> float:
    """User + system seconds of ``pid`` (all its threads), plus its reaped children's if asked."""
    fields = _fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def keycloak_jvm(pid_file: str) -> int | None:
    """The java process of the ``kc.sh`` whose pid ``scripts/services`` wrote in ``pid_file``."""
    try:
        script = int(Path(pid_file).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    for pid in [script, *_pids()]:
        try:
            if _comm(pid) == "java" and (pid == script or int(_fields(pid)[1]) == script):
                return pid
        except (OSError, ValueError):
            continue
    return None


def postmaster(port: str) -> int | None:
    """The PostgreSQL server listening on ``port`` (``postgres -D ... -p <port>``)."""
    for pid in _pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and argv[0].endswith("postgres") and "-D" in argv and port in argv:
            return pid
    return None


def machine_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``: every core, every
    process, ours and the shared machine's other tenants; idle and iowait left out)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def postgres_seconds(master: int) -> float:
    """The cluster's CPU: the postmaster, its exited children (reaped) and its live ones."""
    total = process_seconds(master, children=True)
    for pid in _pids():
        try:
            if int(_fields(pid)[1]) == master:
                total += process_seconds(pid)
        except (OSError, ValueError):
            continue
    return total


class CpuMeter:
    """The processes of the services in ``services.env``: each Keycloak node's JVM, PostgreSQL."""

    def __init__(self, env: dict[str, str]) -> None:
        files = {
            "keycloak_1": env.get("KEYCLOAK_PID_FILE", ""),
            "keycloak_2": env.get("KEYCLOAK_PID_FILE_2", ""),
        }
        self.jvms = {name: pid for name, path in files.items() if path and (pid := keycloak_jvm(path))}
        self.postmaster = postmaster(env["POSTGRES_PORT"]) if env.get("POSTGRES_PORT") else None

    def sample(self) -> dict[str, float]:
        seconds = {name: process_seconds(pid) for name, pid in self.jvms.items()}
        if self.postmaster:
            seconds["postgres"] = postgres_seconds(self.postmaster)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds["workers"] = workers.ru_utime + workers.ru_stime
        bench = resource.getrusage(resource.RUSAGE_SELF)
        seconds["bench"] = bench.ru_utime + bench.ru_stime
        seconds["machine"] = machine_seconds()
        return seconds


@contextmanager
def measured(env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """CPU seconds of each process and wall seconds around the block, filled in when it ends."""
    meter = CpuMeter(env)
    load_before = [round(x, 2) for x in os.getloadavg()]
    before, started = meter.sample(), time.perf_counter()
    found: dict[str, Any] = {}
    yield found
    after, wall = meter.sample(), time.perf_counter() - started
    machine = after.pop("machine") - before.pop("machine")
    spent = {name: round(after[name] - before[name], 2) for name in before}
    total = sum(spent.values())
    found.update(
        wall_seconds=round(wall, 2),
        cpu_seconds=spent,
        cpu_seconds_total=round(total, 2),
        cores_busy=round(total / wall, 2) if wall else None,  # ours, of os.cpu_count() cores
        # The whole machine, and what of it was not ours (the shared machine's other work).
        machine_cores_busy=round(machine / wall, 2) if wall else None,
        others_cores_busy=round((machine - total) / wall, 2) if wall else None,
        load_average_before=load_before,
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        nproc=os.cpu_count(),
    )


def per_person(cpu: dict[str, Any], people: int) -> dict[str, float]:
    """Each process's CPU milliseconds per person (the machine's not included)."""
    return {name: round(1000 * seconds / people, 3) for name, seconds in cpu["cpu_seconds"].items()}
