"""Figures on the testbed (tests/testbed.py): a cluster of VM containers over TLS.

    sudo .venv/bin/python benchmarks/testbed.py [--containers 4] [--vms 40]
    sudo .venv/bin/python benchmarks/testbed.py --only migration --downtimes 300,50

Prints: the testbed's `up` and `down` times; the time of one
`cairn start host vm` of all VMs across the containers, and the same domains
defined and started with raw libvirt-python over the same qemu+tls://
connections from the frontend, so the difference per VM is cairn's overhead
(its database, plugins, XML, disks); how long `list host vm status=yes`
takes when one container cannot be reached; and live migrations (`move host vm
... copy-storage=yes`) of a booted guest back and forth while the frontend
pings it every 10 ms, for each kvm_migrate_downtime asked (300 ms is QEMU's
own limit, 50 cairn's default): each move's time, the share of the pings sent
during it that were lost (goal: at most 1%), the longest gap, and libvirt's
measure of the pause. It makes its own testbed in
/var/lib/cairn-testbed-bench and removes it. Figures, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import testbed as tb

ROOT = Path("/var/lib/cairn-testbed-bench")

# Run on the frontend: destroy and undefine cairn's domains (keeping their XML),
# say so and wait for a line on stdin, then define and start them again with
# libvirt-python, timed.
_RAW = """
import json, sys, time
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
plan = json.loads(sys.stdin.readline())  # {uri: [names]}
conns = {uri: libvirt.open(uri) for uri in plan}
xmls = {}
for uri, names in plan.items():
    for name in names:
        dom = conns[uri].lookupByName(name)
        xmls[name] = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        dom.destroy()
        dom.undefine()
print("undefined", flush=True)
sys.stdin.readline()
started = time.monotonic()
import concurrent.futures
def run(uri):
    for name in plan[uri]:
        conns[uri].defineXML(xmls[name]).create()
with concurrent.futures.ThreadPoolExecutor(len(plan)) as pool:
    list(pool.map(run, plan))
print(time.monotonic() - started)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=4)
    ap.add_argument("--vms", type=int, default=40)
    ap.add_argument("--moves", type=int, default=4, help="live moves per downtime")
    ap.add_argument(
        "--downtimes", default="300,50", help="kvm_migrate_downtime values (300: QEMU's own)"
    )
    ap.add_argument("--only", choices=["bulk", "migration"], help="one part only")
    args = ap.parse_args()
    if args.only == "migration":
        args.containers = 2

    tb.down(ROOT)
    t = time.monotonic()
    bed, _ = tb.Testbed.up(args.containers, ROOT)
    print(f"up, {args.containers} containers: {time.monotonic() - t:.1f} s")
    try:
        if args.only != "migration":
            bulk(bed, args.containers, args.vms)
        if args.only != "bulk":
            migration(bed, [int(d) for d in args.downtimes.split(",")], args.moves)
    finally:
        t = time.monotonic()
        tb.down(ROOT)
        print(f"down: {time.monotonic() - t:.1f} s")


def bulk(bed: tb.Testbed, containers: int, count: int) -> None:
    names = [f"bench-{i:03d}" for i in range(count)]
    adds = [
        ["add", "host", "vm", tb.container_name(i % containers), f"name={n}", "mem=128"]
        for i, n in enumerate(names)
    ]
    bed.cairn_batch([[*words, "disksize=1"] for words in adds])
    t = time.monotonic()
    done = bed.cairn("start", "host", "vm", "bench-*", "output-format=json")
    took = time.monotonic() - t
    results = {r["result"] for r in json.loads(done.stdout)}
    print(f"cairn start host vm, {count} VMs on {containers} containers: {took:.1f} s {results}")
    t = time.monotonic()
    bed.cairn("list", "host", "vm", "bench-*", "status=yes")
    print(f"list host vm status=yes, {count} VMs: {time.monotonic() - t:.2f} s")
    plan: dict[str, list[str]] = {}
    for i, n in enumerate(names):
        plan.setdefault(bed.uri(tb.container_name(i % containers)), []).append(n)
    raw = raw_starts(bed, plan)
    print(f"raw libvirt-python define+create, same TLS URIs: {raw:.1f} s")
    print(f"cairn's overhead per VM: {(took - raw) / count * 1000:.0f} ms")
    unreachable(bed, count)
    bed.forget_vms("bench-*")


def raw_starts(
    bed: tb.Testbed, plan: dict[str, list[str]], quiet: Callable[[], None] = lambda: None
) -> float:
    """Seconds to define and start again, with libvirt-python on the frontend, the
    domains cairn started ({URI: names}; destroyed and undefined first, untimed,
    then `quiet` called: what it waits for is not timed), a thread per container
    as cairn's start has."""
    env = [f"{k}={v}" for k, v in bed.env.items()]
    proc = subprocess.Popen(
        bed.frontend.argv("env", *env, tb.PYTHON, "-c", _RAW),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(plan) + "\n")
    proc.stdin.flush()
    if proc.stdout.readline().strip() != "undefined":
        raise SystemExit("the raw run failed before its starts")
    quiet()
    said, _ = proc.communicate("go\n", timeout=900)
    if proc.returncode:
        raise SystemExit(f"the raw run failed (exit {proc.returncode})")
    return float(said.strip())


def unreachable(bed: tb.Testbed, count: int) -> None:
    """`list host vm status=yes` when one more container does not answer (an address
    of the private network where nobody is): bounded by cairn's connect time-out."""
    bed.cairn("add", "host", "bench-far-0-9", "appliance=vm-container", "rack=9", "rank=9")
    bed.cairn(
        "set", "host", "attr", "bench-far-0-9", "kvm_connection", "qemu+tls://198.18.0.99/system"
    )  # fmt: skip
    bed.cairn("add", "host", "vm", "bench-far-0-9", "name=bench-far", "mem=128")
    t = time.monotonic()
    done = bed.cairn("list", "host", "vm", "bench-*", "status=yes", check=False)
    took = time.monotonic() - t
    print(
        f"list host vm status=yes, {count} VMs + 1 on a container nobody answers for:"
        f" {took:.1f} s (exit {done.returncode})"
    )
    bed.cairn("remove", "host", "bench-far", check=False)
    bed.cairn("remove", "host", "bench-far-0-9", check=False)


class Pinger:
    """busybox ping every 10 ms from the frontend, each reply stamped as it comes
    (through a pty: busybox buffers a pipe)."""

    def __init__(self, bed: tb.Testbed, ip: str) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            ["nsenter", "-t", str(bed.frontend.pid), "--net", "--",
             "busybox", "ping", "-i", "0.01", ip],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.lines: list[tuple[float, str]] = []
        self.began = time.monotonic()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        rest = b""
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            rest += data
            now = time.monotonic()
            while b"\n" in rest:
                line, rest = rest.split(b"\n", 1)
                self.lines.append((now, line.decode(errors="replace")))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        os.close(self.master)

    def during(self, begin: float, end: float) -> tuple[int, int, int]:
        """(pings sent between begin and end, how many of them were lost, the longest
        run of lost ones). A ping's send time is its reply's time less its round trip;
        a lost one's is counted on from the one before at ping's measured pace (from
        its start for the first ones), the last ones too, up to ping's own count."""
        sent_at: dict[int, float] = {}
        total = 0
        for when, line in self.lines:
            found = re.search(r"seq=(\d+) ttl=\d+ time=([\d.]+) ms", line)
            if found:
                sent_at[int(found[1])] = when - float(found[2]) / 1000
            counted = re.search(r"(\d+) packets transmitted", line)
            if counted:
                total = int(counted[1])
        total = max(total, max(sent_at, default=-1) + 1)
        answered = sorted(sent_at)
        pace = 0.01
        if len(answered) > 1 and answered[-1] > answered[0]:
            pace = (sent_at[answered[-1]] - sent_at[answered[0]]) / (answered[-1] - answered[0])
        lost: set[int] = set()
        last = (self.began - pace, -1)
        for seq in range(total):
            if seq in sent_at:
                last = (sent_at[seq], seq)
            else:
                lost.add(seq)
                sent_at[seq] = last[0] + (seq - last[1]) * pace
        inside = [q for q in range(total) if begin <= sent_at[q] <= end]
        gone = [q for q in inside if q in lost]
        longest = run = 0
        for q in inside:
            run = run + 1 if q in lost else 0
            longest = max(longest, run)
        return len(inside), len(gone), longest


def migration(bed: tb.Testbed, downtimes: list[int], moves: int) -> None:
    """`moves` live moves back and forth for each kvm_migrate_downtime in `downtimes`."""
    here, there, ip = tb.container_name(0), tb.container_name(1), "198.18.1.60"
    bed.cairn(
        "add", "host", "vm", here, "name=bench-mig", "mem=128", "disksize=1", f"ip={ip}",
        "subnet=private",
    )  # fmt: skip
    bed.cairn("start", "host", "vm", "bench-mig")
    deadline = time.monotonic() + 600
    while bed.on_frontend("busybox", "ping", "-c1", "-W1", ip, check=False).returncode:
        if time.monotonic() > deadline:
            raise SystemExit("the guest never answered ping")
    print("live moves (copy-storage, 1 GiB sparse disk, 128 MiB), pinged every 10 ms:")
    for downtime in downtimes:
        bed.cairn("set", "host", "attr", "bench-mig", "kvm_migrate_downtime", str(downtime))
        sent = lost = 0
        took: list[float] = []
        for _ in range(moves):
            ping = Pinger(bed, ip)
            time.sleep(0.5)
            t = time.monotonic()
            bed.cairn("move", "host", "vm", "bench-mig", there, "copy-storage=yes")
            end = time.monotonic()
            time.sleep(1.0)  # pings answered late still count
            ping.stop()
            n, gone, longest = ping.during(t, end)
            sent, lost = sent + n, lost + gone
            took.append(end - t)
            print(
                f"  kvm_migrate_downtime={downtime}: {here} -> {there} {end - t:.1f} s,"
                f" {gone} of {n} pings lost ({100 * gone / max(n, 1):.1f}%),"
                f" longest gap {longest * 10} ms, libvirt's downtime"
                f" {_downtime(bed, there, 'bench-mig')} ms"
            )
            here, there = there, here
        share = 100 * lost / max(sent, 1)
        print(
            f"  kvm_migrate_downtime={downtime}: median move {statistics.median(took):.1f} s,"
            f" {lost} of {sent} pings lost ({share:.1f}%;"
            f" goal at most 1%: {'met' if share <= 1 else 'NOT met'})"
        )
    bed.forget_vms("bench-*")


def _downtime(bed: tb.Testbed, container: str, vm: str) -> str:
    """libvirt's measure of the pause (source paused to destination resumed)."""
    said = bed.container(container).run("virsh", "domjobinfo", vm, "--completed", check=False)
    found = re.search(r"^Downtime(?: w/o network)?:\s+(\d+)", said.stdout, re.MULTILINE)
    return found[1] if found else "?"


if __name__ == "__main__":
    main()
