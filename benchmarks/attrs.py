"""Benchmark: cairn commands as whole processes on a 10,000-host database.

Builds a database of HOSTS hosts with 50 global, 10 appliance (per appliance)
and 5 host attributes each, then prints, per backend, the median wall time of
whole `cairn` processes run in-process (CAIRN_SERVICE=off) and the number of
SQL statements each one issues; then all attributes of every host (`cairn list
host attr`, streamed) through a cairn service of its own: the time to the
first line and to the last, and the peak memory of the client and of the
service, next to `virsh -c test:///default list` in the same run (target:
< 1 s and < 100 MiB). SQLite always; PostgreSQL too when CAIRN_TEST_PG_URL
names a role that may create databases (scripts/services.sh prints it).

    .venv/bin/python benchmarks/attrs.py [--hosts 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

from cairn_process import measure
from sqlalchemy import create_engine, insert, select, text

from cairn.attrs.escape import escape
from cairn.db.engine import make_engine, normalise
from cairn.db.models import OS, Appliance, ApplianceAttr, GlobalAttr, Host, HostAttr
from cairn.db.schema import ensure_current

APPLIANCES = ("compute", "vm-container", "login", "storage")


def build(url: str, hosts: int) -> None:
    engine = make_engine(url, writes=True)
    ensure_current(engine)
    with engine.begin() as conn:
        app_ids = dict(conn.execute(select(Appliance.name, Appliance.id)).all())
        for name in APPLIANCES:
            if name not in app_ids:
                app_ids[name] = conn.execute(
                    insert(Appliance).values(name=name).returning(Appliance.id)
                ).scalar_one()
        os_id = conn.execute(select(OS.id)).scalar_one()
        conn.execute(
            insert(GlobalAttr),
            [{"name": f"global_{i}", "value": escape(f"<g{i}> & value")} for i in range(50)],
        )
        conn.execute(
            insert(ApplianceAttr),
            [
                {"appliance_id": app_ids[a], "name": f"app_{i}", "value": f"a{i}"}
                for a in APPLIANCES
                for i in range(10)
            ],
        )
        rows = [
            {
                "name": f"compute-{i // 100}-{i % 100}",
                "appliance_id": app_ids[APPLIANCES[i % 4]],
                "os_id": os_id,
                "rack": i // 100,
                "rank": i % 100,
                "cpus": 8,
            }
            for i in range(hosts)
        ]
        conn.execute(insert(Host), rows)
        ids = conn.execute(select(Host.id).where(Host.name.like("compute-%"))).scalars().all()
        conn.execute(
            insert(HostAttr),
            [{"host_id": h, "name": f"host_{i}", "value": f"h{i}"} for h in ids for i in range(5)],
        )
    engine.dispose()


def report(backend: str, url: str, runs: int, hosts: int) -> None:
    middle = hosts // 2
    cases = [
        (
            "list host attr ONE-HOST",
            ["list", "host", "attr", f"compute-{middle // 100}-{middle % 100}"],
        ),
        ("list host attr (all hosts)", ["list", "host", "attr"]),
        ("dump attr", ["dump", "attr"]),
        ("dump host attr (all hosts)", ["dump", "host", "attr"]),
        ("help", ["help"]),
    ]
    for label, words in cases:
        seconds, statements, lines = measure(url, words, runs)
        print(
            f"{backend:10s} {label:28s} {seconds * 1000:8.0f} ms"
            f"  {statements:3d} SQL  {lines:7d} lines"
        )


def streamed(backend: str, url: str, runs: int, hosts: int, tmp: str) -> None:
    """All attributes of every host through a service: the streamed listing."""
    import statistics
    import subprocess
    from pathlib import Path

    from service import CAIRN, VIRSH, env_for, peak_rss_mib, service, timed

    sock = Path(tmp) / f"{backend}-attrs.sock"
    with service(url, sock) as proc:
        env = env_for(url, sock, True)
        timed([CAIRN, "list", "host", "attr", "compute-0-0"], env)  # the service warms up
        virsh, first, last, client, lines = [], [], [], [], 0
        for _ in range(runs):
            virsh.append(timed(VIRSH))
            start = time.perf_counter()
            lister = subprocess.Popen(
                [sys.executable, "-c", _PEAK, CAIRN, "list", "host", "attr"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert lister.stdout is not None and lister.stderr is not None
            lister.stdout.readline()
            first.append(time.perf_counter() - start)
            lines = 1 + _count_lines(lister.stdout)
            said = lister.stderr.read().decode()
            last.append(time.perf_counter() - start)
            if lister.wait() or not said.startswith("peak-kib "):
                raise SystemExit(f"cairn list host attr failed: {said}")
            client.append(int(said.split()[1]) / 1024)
        v, f, t = (statistics.median(x) for x in (virsh, first, last))
        service_mib = peak_rss_mib(proc.pid)
        met = t < 1 and max(client) < 100 and service_mib < 100
        print(
            f"{backend:10s} list host attr, all {hosts} hosts, through the service ({lines} lines):"
            f" first line {f * 1000:.0f} ms, all {t * 1000:.0f} ms"
            f" ({t / v:.0f}x virsh {v * 1000:.0f} ms); peak memory: client {max(client):.0f} MiB,"
            f" service {service_mib:.0f} MiB  [< 1 s and < 100 MiB: {'met' if met else 'MISSED'}]"
        )


# The client's peak memory, measured by a small parent: a child of this
# process (which holds SQLAlchemy and the database) would be charged this
# process's memory from before its exec.
_PEAK = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
print("peak-kib", usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _count_lines(stream: IO[bytes]) -> int:
    count = 0
    while block := stream.read(1 << 20):
        count += block.count(b"\n")
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"{args.hosts} hosts, median of {args.runs} runs per figure")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        build(url, args.hosts)
        report("sqlite", url, args.runs, args.hosts)
        streamed("sqlite", url, args.runs, args.hosts, tmp)
    admin = os.environ.get("CAIRN_TEST_PG_URL")
    if admin:
        with postgres_database(admin, "cairn_bench") as url, tempfile.TemporaryDirectory() as tmp:
            build(url, args.hosts)
            report("postgresql", url, args.runs, args.hosts)
            streamed("postgresql", url, args.runs, args.hosts, tmp)
    else:
        print("postgresql: skipped (set CAIRN_TEST_PG_URL, see scripts/services.sh)")


@contextlib.contextmanager
def postgres_database(admin: str, name: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database `name`, dropped afterwards."""
    admin_engine = create_engine(normalise(admin), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        drop()
        admin_engine.dispose()


if __name__ == "__main__":
    main()
