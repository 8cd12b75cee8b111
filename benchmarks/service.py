"""Benchmark: the cairn command through the cairn service, against virsh.

Builds a database of HOSTS hosts (as benchmarks/attrs.py does), starts a
cairn service for it on a socket of its own, and prints, per backend, the
median wall time of whole `cairn` client processes through the service and
of the same commands run in-process (CAIRN_SERVICE=off, what every command
cost before the service), each next to `virsh -c test:///default list`
measured in the same run (runs interleaved, so load on the machine hits both
alike). Then: all attributes of every host (time and the client's and the
service's peak memory); benchmarks/replay.py replays a whole dump. SQLite
always; PostgreSQL too when CAIRN_TEST_PG_URL is set (scripts/services.sh
prints it).

    .venv/bin/python benchmarks/service.py [--hosts 10000] [--runs 9]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from attrs import build, postgres_database, streamed

CAIRN = str(Path(sys.executable).parent / "cairn")
VIRSH = ["virsh", "-c", "test:///default", "list"]


def env_for(url: str, sock: Path, service: bool) -> dict[str, str]:
    env = {**os.environ, "CAIRN_DB_URL": url, "CAIRN_SOCKET": str(sock), "CAIRN_PLUGIN_PATH": ""}
    env["CAIRN_SERVICE"] = "on" if service else "off"
    return env


def timed(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, input=stdin)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr}")
    return seconds


@contextlib.contextmanager
def service(url: str, sock: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [CAIRN, "watch", "watch=no"],
        env=env_for(url, sock, True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the cairn service did not start")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait()


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def report(backend: str, url: str, runs: int, hosts: int, tmp: Path) -> None:
    sock = tmp / f"{backend}.sock"
    middle = f"compute-{hosts // 2 // 100}-{hosts // 2 % 100}"
    container = "compute-0-1"  # a vm-container (attrs.build)
    with service(url, sock):
        on, off = env_for(url, sock, True), env_for(url, sock, False)
        vm_line = subprocess.run(
            [CAIRN, "add", "host", "vm", container, "mem=64"],
            env=on,
            capture_output=True,
            text=True,
        ).stdout
        vm = vm_line.split()[1]
        cases = [
            ("list host attr ONE", ["list", "host", "attr", middle]),
            ("set host attr", ["set", "host", "attr", middle, "bench", "x"]),
            ("add host vm", ["add", "host", "vm", container, "mem=64"]),
            ("report host vm config ONE", ["report", "host", "vm", "config", vm]),
            ("list host vm", ["list", "host", "vm", vm]),
        ]
        print(f"{backend}: median of {runs} paired runs, ratio to virsh in the same run")
        for label, words in cases:
            virsh, served, here = [], [], []
            for _ in range(runs):
                virsh.append(timed(VIRSH))
                served.append(timed([CAIRN, *words], on))
                here.append(timed([CAIRN, *words], off))
            v, s, h = (statistics.median(x) * 1000 for x in (virsh, served, here))
            print(
                f"  {label:28s} virsh {v:5.0f} ms   service {s:6.0f} ms {s / v:5.1f}x"
                f"   in-process {h:6.0f} ms {h / v:5.1f}x"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp}/bench.db"
        build(url, args.hosts)
        report("sqlite", url, args.runs, args.hosts, tmp)
        streamed("sqlite", url, args.runs, args.hosts, tmp_name)
        admin = os.environ.get("CAIRN_TEST_PG_URL")
        if not admin:
            print("postgresql: skipped (set CAIRN_TEST_PG_URL, see scripts/services.sh)")
            return
        with postgres_database(admin, "cairn_bench_service") as url:
            build(url, args.hosts)
            report("postgresql", url, args.runs, args.hosts, tmp)
            streamed("postgresql", url, args.runs, args.hosts, tmp_name)


if __name__ == "__main__":
    main()
