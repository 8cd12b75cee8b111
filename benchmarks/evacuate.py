"""Evacuation on the testbed: how long `cairn container evacuate` takes to empty a container.

    sudo .venv/bin/python benchmarks/evacuate.py [--vms 8] [--containers 4]

Boots --vms testbed guests (tests/testbed.py: each answers ping) on
vm-container-0-0, waits until each answers, then times `cairn container
evacuate vm-container-0-0 copy-storage=yes` (their 1 GiB disks copied, the
targets chosen by the placement rule), checks that every guest answers ping
again, and prints the time, the time per VM, where they went and the machine's
load average. It makes its own testbed in /var/lib/cairn-testbed-evacuate and
removes it. Figures, not a test: tests/system/test_system_evacuate.py is the test.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import testbed as tb

ROOT = Path("/var/lib/cairn-testbed-evacuate")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=8)
    ap.add_argument("--containers", type=int, default=4)
    args = ap.parse_args()
    tb.down(ROOT)
    bed, _ = tb.Testbed.up(args.containers, ROOT)
    try:
        evacuate(bed, args.vms)
    finally:
        tb.down(ROOT)


def answers(bed: tb.Testbed, ip: str) -> bool:
    return bed.on_frontend("busybox", "ping", "-c1", "-W1", ip, check=False).returncode == 0


def wait_all(bed: tb.Testbed, ips: list[str], what: str, timeout: float = 600) -> float:
    t = time.monotonic()
    waiting = set(ips)
    while waiting:
        waiting = {ip for ip in waiting if not answers(bed, ip)}
        if waiting and time.monotonic() - t > timeout:
            raise SystemExit(f"{what}: {sorted(waiting)} never answered")
    return time.monotonic() - t


def evacuate(bed: tb.Testbed, count: int) -> None:
    src = tb.container_name(0)
    names = [f"evac-{i}" for i in range(count)]
    ips = [f"198.18.2.{10 + i}" for i in range(count)]
    bed.cairn_batch(
        [
            ["add", "host", "vm", src, f"name={n}", "mem=128", "disksize=1", f"ip={ip}",
             "subnet=private"]
            for n, ip in zip(names, ips, strict=True)
        ]
    )  # fmt: skip
    bed.cairn("start", "host", "vm", "evac-*")
    booted = wait_all(bed, ips, "boot")
    print(f"{count} guests up on {src} (ping answered {booted:.0f} s after the start)")

    t = time.monotonic()
    done = bed.cairn("container", "evacuate", src, "copy-storage=yes", "output-format=json")
    took = time.monotonic() - t
    rows = json.loads(done.stdout)
    again = wait_all(bed, ips, "after the evacuation", timeout=60)
    where = collections.Counter(r["container"] for r in rows)
    kinds = collections.Counter(r["result"].split(" (")[0].split(" to ")[0] for r in rows)
    print(
        f"container evacuate {src}, {count} VMs: {took:.1f} s ({took / count:.1f} s per VM);"
        f" all answer ping {again:.1f} s after it returned"
    )
    print(f"  where they went: {dict(sorted(where.items()))}; how: {dict(kinds)}")
    print(f"  stayed: {[r['vm'] for r in rows if r['container'] == src]}")
    print(f"  load average: {os.getloadavg()}, {os.cpu_count()} CPUs")
    bed.cairn("container", "return", src)
    bed.forget_vms("evac-*")


if __name__ == "__main__":
    main()
