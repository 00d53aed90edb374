"""CPU seconds by program over the load test: where the machine's two cores went.

    python config/loadtest/cpu.py snapshot FILE          # every process's CPU so far, from /proc
    python config/loadtest/cpu.py compare BEFORE AFTER   # CPU seconds used between them, by program

A process counts its own CPU and that of children it has reaped (PostgreSQL's backends that
ended are counted under the postmaster), so short-lived processes are not lost; a program that
has exited by the second snapshot (Locust, in loadtest.sh) is counted under its parent ("other").
PostgreSQL's CPU is split by whom a backend serves: the backend's client port (in its process
title) is matched to the process holding that socket, so the web's queries and the worker's are
told apart; the postmaster, its helpers, parallel workers and backends that ended count together.
Only Linux.
"""
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
KINDS = (("gunicorn", "web (gunicorn)"), ("celery", "worker (celery)"), ("postgres", "PostgreSQL"),
         ("locust", "Locust (the load generator)"), ("redis", "Redis"))


def kind_of(cmdline: str) -> str:
    for needle, label in KINDS:
        if needle in cmdline:
            return label
    return "other"


#: A backend's process title: "postgres: USER DATABASE HOST(PORT) STATE".
BACKEND = re.compile(r"^postgres: \S+ \S+ [^(]+\((\d+)\)")


def _socket_owners(pids) -> dict[int, str]:
    """Local TCP port -> the pid of the process holding that socket, for loopback clients."""
    inode_port = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            inode_port[cols[9]] = int(cols[1].rsplit(":", 1)[1], 16)
    owners = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inode_port:
                owners[inode_port[target[8:-1]]] = pid
    return owners


def snapshot() -> dict:
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        own = (int(fields[11]) + int(fields[12])) / TICK
        reaped = (int(fields[13]) + int(fields[14])) / TICK
        processes[entry.name] = {"start": fields[19], "kind": kind_of(cmdline or stat), "cpu": own + reaped,
                                 "title": cmdline}
    clients = [pid for pid, proc in processes.items() if proc["kind"] not in ("PostgreSQL", "other")]
    owners = _socket_owners(clients)
    for proc in processes.values():
        if proc["kind"] == "PostgreSQL":
            match = BACKEND.match(proc["title"])
            owner = processes.get(owners.get(int(match.group(1)), ""), {}) if match else {}
            proc["kind"] = (f"PostgreSQL for the {owner['kind'].split(' ')[0]}" if owner
                            else "PostgreSQL for another client" if match
                            else "PostgreSQL: its helpers, parallel workers, ended sessions")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    total, idle, steal = sum(fields[:7]) / TICK, sum(fields[3:5]) / TICK, fields[7] / TICK
    return {"processes": processes, "busy": total - idle, "total": total, "steal": steal}


def used_by_kind(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each kind of program used between two snapshots (a pid reused by a new process
    counts from zero)."""
    used = defaultdict(float)
    for pid, proc in after["processes"].items():
        earlier = before["processes"].get(pid)
        start = earlier["cpu"] if earlier and earlier["start"] == proc["start"] else 0.0
        used[proc["kind"]] += proc["cpu"] - start
    return used


def compare(before: dict, after: dict) -> str:
    used = used_by_kind(before, after)
    elapsed = (after["total"] - before["total"]) / os.cpu_count()
    busy = after["busy"] - before["busy"]
    lines = [f"{elapsed:.0f} s elapsed on {os.cpu_count()} cores; CPU busy {busy:.0f} s "
             f"({100 * busy / (elapsed * os.cpu_count()):.0f}% of the machine); taken by the hypervisor (steal) "
             f"{after.get('steal', 0) - before.get('steal', 0):.1f} s",
             "| Program | CPU seconds | Share of the machine |", "|---|---:|---:|"]
    for kind, seconds in sorted(used.items(), key=lambda item: -item[1]):
        lines.append(f"| {kind} | {seconds:.1f} | {100 * seconds / (elapsed * os.cpu_count()):.0f}% |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"]:
        Path(sys.argv[2]).write_text(json.dumps(snapshot()))
    elif sys.argv[1:2] == ["compare"]:
        print(compare(json.loads(Path(sys.argv[2]).read_text()), json.loads(Path(sys.argv[3]).read_text())))
    else:
        sys.exit(__doc__)
