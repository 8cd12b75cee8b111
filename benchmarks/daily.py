"""Benchmark: the figures of issue 10 (daily VM work), on the real libvirtd with KVM.

a. Console attach latency: `cairn open host console VM` as a whole process,
   from its start to "Connected to" on stderr, and in-process from the call
   of cairn.hypervisor.console.attach() to the console being open; for a VM
   on this machine's libvirtd and for one on a second libvirtd reached through
   its socket (tests/system/peer.py: libvirt's remote protocol, as over ssh or
   tls but without the network's own delay). Median of --runs.
b. Growing a 10 GiB disk of a running guest to 20 GiB: `cairn set host vm VM
   disksize=20` as a whole process, and the block resize alone.
c. Snapshots of a guest with a 1 GiB qcow2 disk (128 MiB of memory): take and
   revert, running (memory included) and off, through the cairn commands.

Every VM, disk and pool is made under a directory of its own and removed at
the end. Run as root with libvirtd running (eval "$(bash scripts/services.sh)").

    .venv/bin/python benchmarks/daily.py [--runs 5] [--skip-remote]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "system"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

CAIRN = str(Path(sys.executable).parent / "cairn")
IMAGES = Path("/var/lib/libvirt/images")
GIB = 1024**3

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


class Bench:
    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.tmp = Path(tempfile.mkdtemp(prefix="cairn-bench-daily-"))
        self.dir = IMAGES / f"cairn-bench-{self.tag}"
        self.dir.mkdir(mode=0o755)
        self.env = {
            **os.environ,
            "CAIRN_DB_URL": f"sqlite:///{self.tmp / 'cairn.db'}",
            "CAIRN_PLUGIN_PATH": "",
        }
        self.conn = libvirt.open("qemu:///system")
        self.vms: list[str] = []
        self.cairn("init")
        self.cairn("set", "host", "attr", "localhost", "kvm", "true")
        self.cairn("remove", "attr", "cpu_mode")
        self.cairn("set", "host", "attr", "localhost", "kvm_disk_dir", str(self.dir))

    def cairn(self, *words: str) -> str:
        done = subprocess.run(
            [CAIRN, *words], capture_output=True, text=True, env=self.env, timeout=600
        )
        if done.returncode:
            raise SystemExit(f"cairn {' '.join(words)}: {done.stderr}")
        return done.stdout

    def timed(self, *words: str) -> float:
        t0 = time.perf_counter()
        self.cairn(*words)
        return time.perf_counter() - t0

    def vm(self, label: str, *params: str, container: str = "localhost") -> str:
        name = f"bench-{self.tag}-{label}"
        self.vms.append(name)
        self.cairn("add", "host", "vm", container, f"name={name}", "mem=128", *params)
        self.cairn("set", "host", "attr", name, "kvm_bios_useserial", "true")
        return name

    def cleanup(self, conns: list[libvirt.virConnect]) -> None:
        for conn in conns:
            for name in self.vms:
                with contextlib.suppress(libvirt.libvirtError):
                    dom = conn.lookupByName(name)
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(
                        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                    )
        for pool in self.conn.listAllStoragePools(0):
            if str(self.dir) in pool.XMLDesc(0):
                with contextlib.suppress(libvirt.libvirtError):
                    pool.destroy()
                pool.undefine()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def median_ms(samples: list[float]) -> str:
    middle, least = statistics.median(samples) * 1000, min(samples) * 1000
    return f"{middle:7.1f} ms (min {least:.1f}, n={len(samples)})"


def process_attach(bench: Bench, vm: str) -> float:
    """Whole process: start to "Connected to" on stderr."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [CAIRN, "open", "host", "console", vm, "readonly=yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=bench.env,
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    took = time.perf_counter() - t0
    proc.kill()
    proc.wait()
    if b"Connected to" not in line:
        raise SystemExit(f"no console for {vm}: {line!r}")
    return took


def inprocess_attach(uri: str, vm: str) -> float:
    from cairn.hypervisor import console
    from cairn.hypervisor.guest import Guest

    console.use_event_loop()
    conn = libvirt.open(uri)
    try:
        guest = Guest.lookup(conn, vm)
        t0 = time.perf_counter()
        took: list[float] = []
        console.attach(
            guest, lambda _b: None, seconds=0,
            attached=lambda: took.append(time.perf_counter() - t0),
        )  # fmt: skip
        return took[0]
    finally:
        conn.close()


def consoles(bench: Bench, runs: int, remote: object | None) -> None:
    print("a. console attach latency")
    places = [("local (qemu:///system)", "localhost", "qemu:///system")]
    if remote is not None:
        uri = remote.uri  # type: ignore[attr-defined]
        bench.cairn("add", "host", "vm-container-9-0", "appliance=vm-container", "rack=9", "rank=0")
        bench.cairn("set", "host", "attr", "vm-container-9-0", "kvm_connection", uri)
        places.append(("remote (a second libvirtd, remote protocol)", "vm-container-9-0", uri))
    for what, container, uri in places:
        vm = bench.vm(f"con-{container[-3:]}", "disksize=1", container=container)
        bench.cairn("start", "host", "vm", vm)
        whole = [process_attach(bench, vm) for _ in range(runs)]
        inner = [inprocess_attach(uri, vm) for _ in range(runs)]
        print(f"   {what}:")
        print(f"     whole process to 'Connected': {median_ms(whole)}")
        print(f"     attach() to console open:     {median_ms(inner)}")


def grow(bench: Bench, runs: int) -> None:
    print("b. growing a 10 GiB disk of a running guest to 20 GiB")
    whole, inner = [], []
    for i in range(runs):
        vm = bench.vm(f"grow{i}", "disksize=10")
        bench.cairn("start", "host", "vm", vm)
        whole.append(bench.timed("set", "host", "vm", vm, "disksize=20"))
        dom = bench.conn.lookupByName(vm)
        assert dom.blockInfo(str(bench.dir / f"{vm}.vda"))[0] == 20 * GIB
        t0 = time.perf_counter()
        dom.blockResize("vda", 30 * GIB, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
        inner.append(time.perf_counter() - t0)
        dom.destroy()
    print(f"   cairn set host vm disksize=20 (process): {median_ms(whole)}")
    print(f"   virDomainBlockResize alone:              {median_ms(inner)}")


def snapshots(bench: Bench, runs: int) -> None:
    print("c. snapshots of a guest with a 1 GiB qcow2 disk, 128 MiB memory")
    vm = bench.vm("snap", f"disk=qcow2:{bench.dir / 'snap.qcow2'}", "disksize=1")
    bench.cairn("start", "host", "vm", vm)
    times: dict[str, list[float]] = {
        k: [] for k in ("take-on", "revert-on", "take-off", "revert-off")
    }
    for i in range(runs):
        times["take-on"].append(bench.timed("add", "host", "vm", "snapshot", vm, f"on{i}"))
        times["revert-on"].append(bench.timed("revert", "host", "vm", "snapshot", vm, f"on{i}"))
    bench.cairn("stop", "host", "vm", vm)
    for i in range(runs):
        times["take-off"].append(bench.timed("add", "host", "vm", "snapshot", vm, f"off{i}"))
        times["revert-off"].append(bench.timed("revert", "host", "vm", "snapshot", vm, f"off{i}"))
    print(f"   take, running (with memory):  {median_ms(times['take-on'])}")
    print(f"   revert to it, running:        {median_ms(times['revert-on'])}")
    print(f"   take, off:                    {median_ms(times['take-off'])}")
    print(f"   revert to it, off:            {median_ms(times['revert-off'])}")
    print("   (whole cairn processes: start-up and the database are part of each)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


@contextlib.contextmanager
def maybe_peer(skip: bool) -> Iterator[object | None]:
    if skip:
        yield None
        return
    from peer import Peer

    made = Peer(Path(tempfile.mkdtemp(prefix="cairn-peer-")))
    made.start()
    try:
        yield made
    finally:
        made.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-remote", action="store_true")
    args = parser.parse_args()
    bench = Bench()
    with maybe_peer(args.skip_remote) as remote:
        conns = [bench.conn] + ([remote.conn] if remote is not None else [])  # type: ignore[attr-defined]
        steps: list[Callable[[], None]] = [
            lambda: consoles(bench, args.runs, remote),
            lambda: grow(bench, max(1, args.runs // 2)),
            lambda: snapshots(bench, args.runs),
        ]
        try:
            for step in steps:
                step()
        finally:
            bench.cleanup(conns)


if __name__ == "__main__":
    main()
