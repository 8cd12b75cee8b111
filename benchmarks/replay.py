"""Benchmark: a whole `cairn dump` of HOSTS hosts replayed in batch mode.

Builds a database of HOSTS hosts (as benchmarks/attrs.py does: 5 host
attributes each, so about 6 lines a host), prints its `cairn dump`, and
replays it with `cairn init defaults=no` in front into a fresh database:
`cairn < dump` through a cairn service started for that database, the way
`cairn dump | cairn` runs, and with CAIRN_SERVICE=off (the same batch code in
the `cairn` process itself). Prints wall and CPU seconds and checks that the
copy dumps the same, next to `virsh -c test:///default list` (median of 5)
measured in the same run. SQLite always; PostgreSQL too when
CAIRN_TEST_PG_URL is set (scripts/services.sh prints it). Goal: < 60 s for
10,000 hosts.

    .venv/bin/python benchmarks/replay.py [--hosts 10000] [--lines N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
from pathlib import Path

from attrs import build, postgres_database
from service import CAIRN, VIRSH, env_for, service, timed


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def replay(url: str, sock: Path, dump: str, *, through_service: bool) -> tuple[float, float]:
    """(wall s, CPU s of client and service) of replaying `dump` into `url`."""
    env = env_for(url, sock, through_service)
    stdin = "cairn init defaults=no\n" + dump
    if not through_service:
        before = cpu_of_children()
        return timed([CAIRN], env, stdin), cpu_of_children() - before
    with service(url, sock) as proc:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        started = (int(fields[11]) + int(fields[12])) / ticks
        before = cpu_of_children()
        seconds = timed([CAIRN], env, stdin)
        client = cpu_of_children() - before
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        served = (int(fields[11]) + int(fields[12])) / ticks - started
    return seconds, client + served


def report(backend: str, source: str, copies: list[str], lines: int, tmp: Path) -> None:
    env = env_for(source, tmp / "source.sock", False)
    dump = subprocess.run([CAIRN, "dump"], env=env, capture_output=True, text=True).stdout
    if lines:
        dump = "".join(dump.splitlines(keepends=True)[:lines])
    count = dump.count("\n")
    virsh = statistics.median(timed(VIRSH) for _ in range(5)) * 1000
    print(f"{backend}: {count} dump lines; virsh -c test:///default list {virsh:.0f} ms")
    for copy, through_service in zip(copies, (True, False), strict=True):
        seconds, cpu = replay(
            copy, tmp / f"{backend}-copy.sock", dump, through_service=through_service
        )
        again = subprocess.run(
            [CAIRN, "dump"],
            env=env_for(copy, tmp / "x.sock", False),
            capture_output=True,
            text=True,
        ).stdout
        same = "the same dump" if again == dump else "A DIFFERENT DUMP"
        how = "through the service" if through_service else "in-process (CAIRN_SERVICE=off)"
        print(
            f"  replayed {how}: {seconds:6.1f} s wall, {cpu:6.1f} s CPU,"
            f" {seconds / count * 1000:.2f} ms a line, {seconds * 1000 / virsh:.0f}x virsh;"
            f" the copy gives {same}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--lines", type=int, default=0, help="replay only the first N lines")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = f"sqlite:///{tmp}/source.db"
        build(source, args.hosts)
        copies = [f"sqlite:///{tmp}/copy-served.db", f"sqlite:///{tmp}/copy-here.db"]
        report("sqlite", source, copies, args.lines, tmp)
        admin = os.environ.get("CAIRN_TEST_PG_URL")
        if not admin:
            print("postgresql: skipped (set CAIRN_TEST_PG_URL, see scripts/services.sh)")
            return
        with (
            postgres_database(admin, "cairn_bench_replay_a") as served,
            postgres_database(admin, "cairn_bench_replay_b") as here,
        ):
            report("postgresql", source, [served, here], args.lines, tmp)


if __name__ == "__main__":
    main()
