"""Figures on the testbed (tests/testbed.py): a cluster of VM containers over TLS.

    sudo .venv/bin/python benchmarks/testbed.py [--containers 4] [--vms 40]

Prints: the testbed's `up` and `down` times; the time of one
`cairn start host vm` of all VMs across the containers, and the same domains
defined and started with raw libvirt-python over the same qemu+tls://
connections from the frontend, so the difference per VM is cairn's overhead
(its database, plugins, XML, disks); and a live migration (`move host vm
... copy-storage=yes`) of a booted guest while the frontend pings it every
10 ms: the move's time and the pings lost. It makes its own testbed in
/var/lib/cairn-testbed-bench and removes it. Figures, not tests.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import testbed as tb

ROOT = Path("/var/lib/cairn-testbed-bench")

# Run on the frontend: destroy and undefine cairn's domains (keeping their XML),
# then define and start them again with libvirt-python, timed.
_RAW = """
import json, sys, time
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
plan = json.load(sys.stdin)  # {uri: [names]}
conns = {uri: libvirt.open(uri) for uri in plan}
xmls = {}
for uri, names in plan.items():
    for name in names:
        dom = conns[uri].lookupByName(name)
        xmls[name] = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        dom.destroy()
        dom.undefine()
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
    args = ap.parse_args()

    tb.down(ROOT)
    t = time.monotonic()
    bed, _ = tb.Testbed.up(args.containers, ROOT)
    print(f"up, {args.containers} containers: {time.monotonic() - t:.1f} s")
    try:
        bulk(bed, args.containers, args.vms)
        migration(bed)
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
    raw = float(
        bed.on_frontend(tb.PYTHON, "-c", _RAW, input=json.dumps(plan), timeout=900).stdout.strip()
    )
    print(f"raw libvirt-python define+create, same TLS URIs: {raw:.1f} s")
    print(f"cairn's overhead per VM: {(took - raw) / count * 1000:.0f} ms")
    bed.forget_vms("bench-*")


def migration(bed: tb.Testbed) -> None:
    src, dest, ip = tb.container_name(0), tb.container_name(1), "198.18.1.60"
    bed.cairn(
        "add", "host", "vm", src, "name=bench-mig", "mem=128", "disksize=1", f"ip={ip}",
        "subnet=private",
    )  # fmt: skip
    bed.cairn("start", "host", "vm", "bench-mig")
    deadline = time.monotonic() + 600
    while bed.on_frontend("busybox", "ping", "-c1", "-W1", ip, check=False).returncode:
        if time.monotonic() > deadline:
            raise SystemExit("the guest never answered ping")
    ping = subprocess.Popen(
        ["nsenter", "-t", str(bed.frontend.pid), "--net", "--", "busybox", "ping", "-q",
         "-i", "0.01", ip],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    t = time.monotonic()
    bed.cairn("move", "host", "vm", "bench-mig", dest, "copy-storage=yes")
    took = time.monotonic() - t
    ping.send_signal(signal.SIGINT)
    said = ping.communicate(timeout=30)[0]
    found = re.search(r"(\d+) packets transmitted, (\d+) packets received", said)
    sent, got = (int(found[1]), int(found[2])) if found else (0, 0)
    lost = sent - got
    print(f"move host vm (live, copy-storage, 1 GiB sparse disk, 128 MiB): {took:.1f} s")
    print(f"pings every 10 ms: {sent} sent, {lost} lost ({100 * lost / max(sent, 1):.1f}%)")
    bed.forget_vms("bench-*")


if __name__ == "__main__":
    main()
