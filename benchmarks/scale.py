"""A hundred containers, measured (issue 22): the testbed (tests/testbed.py) with
--containers VM containers over TLS and --vms idle guests spread over them.

    sudo .venv/bin/python -u benchmarks/scale.py [--containers 100] [--vms 200]

The guests idle. Each boots, through a preboot plugin of this benchmark, a
36-byte multiboot kernel that it writes itself (a multiboot header, then
`cli; hlt; jmp .-1`), loaded by qboot, QEMU's minimal firmware, on KVM: with
interrupts off, the halted vCPU never wakes, so a guest costs no CPU once up
(measured alone: 0 ticks in 10 s; the firmware with nothing to boot, SeaBIOS,
keeps waking on its timer, 1.1% of a core each, and takes 2.9 s of CPU to
boot under this machine's KVM, qboot 0.06 s). QEMU loads a multiboot image
itself (its multiboot option ROM), so nothing is built but those 36 bytes.

Prints, after the testbed's `up`:
- the CPU the idle guests take (all their QEMUs over 10 s) and the load;
- `cairn start host vm` of all of them, next to the same domains defined and
  started with libvirt-python over the same qemu+tls:// URIs (benchmarks/
  testbed.py's `raw_starts`; goal: cairn at most 1.1x);
- `list host vm status=yes` through the service, answered from the states
  its watcher heard (goal: under 50 ms), next to one listing of every
  container over the same kept connections (what it cost before), and
  whether both say the same (the listing of a `CAIRN_SERVICE=off` run, which
  asks every container);
- before the storm, how many VMs run as cairn and libvirt list them and are
  allocated in the database (all must be: else it stops, unless --go-on);
- every guest destroyed at once with `virsh destroy` on its container: each
  must be disallocated exactly once (a plugin_disallocate that logs its
  calls), all within 10 s; with --hogs N, N busy processes spin meanwhile;
- the service's memory, threads and file descriptors, with its connections.
It makes its own testbed in /var/lib/cairn-testbed-scale (holders named by that
directory: the suite's /var/lib/cairn-testbed is not touched) and removes it
(--keep leaves it; --storm-only then starts the VMs again with a new service of
the code on PYTHONPATH and repeats the storm; `python -c 'import sys;
sys.path.insert(0, "tests"); import testbed, pathlib;
testbed.down(pathlib.Path("/var/lib/cairn-testbed-scale"))'` removes it).
Figures, not tests; docs/scale.md projects them to 1,000 containers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import testbed as tb

# benchmarks/testbed.py, whose name tests/testbed.py takes on the path.
_spec = importlib.util.spec_from_file_location(
    "bench_testbed", Path(__file__).with_name("testbed.py")
)
assert _spec is not None and _spec.loader is not None
bench_testbed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_testbed)

ROOT = Path("/var/lib/cairn-testbed-scale")
QBOOT = "/usr/share/qemu/qboot.rom"
SETTLE = 6.0  # s: a container cairn used is asked, not answered from events, for 5 s
RUNS = 9

_PREBOOT = '''"""benchmarks/scale.py: every guest boots the halting kernel, on KVM, from qboot."""

from lxml import etree


def run(*, session, vm, xml, **_):
    tree = etree.fromstring(xml.encode())
    tree.set("type", "kvm")
    os_ = tree.find("os")
    for tag in ("boot", "kernel", "initrd", "cmdline", "bios", "loader"):
        for old in os_.findall(tag):
            os_.remove(old)
    etree.SubElement(os_, "loader", type="rom", readonly="yes").text = {qboot!r}
    etree.SubElement(os_, "kernel").text = {kernel!r}
    return etree.tostring(tree).decode()
'''

_DISALLOCATE = '''"""benchmarks/scale.py: one line per call."""


def run(*, session, vm, reason, **_):
    with open({log!r}, "a") as f:
        f.write(vm.host.name + " " + reason.replace(chr(10), " ") + chr(10))
'''

# On the frontend: the service's answer to `list host vm status=yes`, RUNS
# times, through the client's own code (no process start); then one listing of
# every container over connections opened beforehand, as the service keeps them.
_ASK = """
import json, os, statistics, sys, time
from cairn.service.client import main
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.listing import list_states
from cairn.vms.status import ASKERS
from concurrent.futures import ThreadPoolExecutor
words, uris, runs = json.load(sys.stdin)
def timed(step):
    t = time.perf_counter(); step(); return time.perf_counter() - t
out, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
os.dup2(null, 1)  # the client writes to fd 1
service = [timed(lambda: main(words)) for _ in range(runs)]
sys.stdout.flush()
os.dup2(out, 1)
with Connections() as conns:
    for uri in uris:
        conns.get(uri)
    asked = [timed(lambda: [list_states(conns.get(u)) for u in uris]) for _ in range(3)]
    with ThreadPoolExecutor(ASKERS) as pool:
        side = [timed(lambda: list(pool.map(lambda u: list_states(conns.get(u)), uris)))
                for _ in range(3)]
print(json.dumps({"service": statistics.median(service), "asked": statistics.median(asked),
                  "side": statistics.median(side)}))
"""


def halt_kernel() -> bytes:
    """A multiboot (v1) image loaded at 1 MiB, with the a.out kludge (flag 16:
    the addresses are in the header, so it needs no ELF): cli; hlt; jmp back."""
    magic, flags, base = 0x1BADB002, 0x00010000, 0x100000
    header = struct.pack(
        "<8I", magic, flags, -(magic + flags) & 0xFFFFFFFF, base, base, 0, 0, base + 32
    )
    return header + bytes([0xFA, 0xF4, 0xEB, 0xFD])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=100)
    ap.add_argument("--vms", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="leave the testbed up")
    ap.add_argument("--parallel", type=int, help="cairn's parallel= (default: cairn's own)")
    ap.add_argument(
        "--go-on", action="store_true", help="destroy them all even if not all run allocated"
    )
    ap.add_argument(
        "--hogs", type=int, default=0, help="busy processes beside the destroy storm (a load)"
    )
    ap.add_argument(
        "--storm-only",
        action="store_true",
        help="on the testbed a --keep run left: start the VMs with a new service, destroy them",
    )
    args = ap.parse_args()
    if args.storm_only:
        bed = tb.Testbed.attach(ROOT)
        try:
            storm_again(bed, args.containers, args.vms, args.parallel, args.hogs, args.go_on)
        finally:
            if not args.keep:
                tb.down(ROOT)
        return
    if not Path(QBOOT).exists():
        raise SystemExit(f"{QBOOT} is missing (apt-get install qemu-system-data)")
    tb.down(ROOT)
    t = time.monotonic()
    bed, _ = tb.Testbed.up(args.containers, ROOT)
    print(f"up, {args.containers} containers: {time.monotonic() - t:.1f} s", flush=True)
    try:
        run(bed, args.containers, args.vms, args.parallel, args.go_on, args.hogs)
    finally:
        if not args.keep:
            t = time.monotonic()
            tb.down(ROOT)
            print(f"down: {time.monotonic() - t:.1f} s")


def layout(bed: tb.Testbed, containers: int, count: int) -> tuple[list[str], dict[str, list[str]]]:
    """The VMs' names, and {container URI: its VMs' names}."""
    names = [f"scale-{i:03d}" for i in range(count)]
    plan: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        plan.setdefault(bed.uri(tb.container_name(i % containers)), []).append(name)
    return names, plan


def storm_again(
    bed: tb.Testbed, containers: int, count: int, parallel: int | None, hogs: int, go_on: bool
) -> None:
    """The destroy storm once more on a testbed a --keep run left: a new service
    (of the code on PYTHONPATH), cairn's start of every VM, the storm."""
    names, plan = layout(bed, containers, count)
    service = Service(bed)
    service.start(len(plan))
    told = [f"parallel={parallel}"] if parallel else []
    t = time.monotonic()
    done = bed.cairn("start", "host", "vm", "scale-*", *told, "output-format=json")
    took = time.monotonic() - t
    print(f"cairn start host vm {' '.join(told) or '(default parallel)'}: {took:.1f} s", end=" ")
    print(_results(done.stdout))
    if not preconditions(bed, plan, names) and not go_on:
        raise SystemExit("the storm's preconditions do not hold")
    destroy_all(bed, plan, ROOT / "disallocated.log", names, hogs)
    service.stop()


def run(
    bed: tb.Testbed,
    containers: int,
    count: int,
    parallel: int | None,
    go_on: bool = False,
    hogs: int = 0,
) -> None:
    kernel = ROOT / "halt.bin"
    kernel.write_bytes(halt_kernel())
    kernel.chmod(0o644)
    log = ROOT / "disallocated.log"
    bed.plugin("start", "preboot", _PREBOOT.format(qboot=QBOOT, kernel=str(kernel)))
    bed.plugin("stop", "disallocate", _DISALLOCATE.format(log=str(log)))
    names, plan = layout(bed, containers, count)
    add = ["add", "host", "vm"]
    bed.cairn_batch(
        [
            [*add, tb.container_name(i % containers), f"name={n}", "mem=64", "disksize=1"]
            for i, n in enumerate(names)
        ]
    )
    service = Service(bed)
    t = time.monotonic()
    service.start(len(plan))
    print(
        f"a new service watches the {len(plan)} containers after {time.monotonic() - t:.1f} s",
        flush=True,
    )

    # parallel=: containers worked on at once; by default one per container
    # (lifecycle/runner.py, up to 128), as the raw run works on every one.
    told = [f"parallel={parallel}"] if parallel else []
    how = told[0] if told else f"(default parallel: {min(len(plan), _max_workers())})"
    t = time.monotonic()
    done = bed.cairn("start", "host", "vm", "scale-*", *told, "output-format=json")
    took = time.monotonic() - t
    print(
        f"cairn start host vm {how}, {count} VMs on {containers} containers:"
        f" {took:.1f} s {_results(done.stdout)}"
    )
    idle(bed, count)
    listing(bed, plan, count)
    # Untimed: the watcher's disallocations of the domains the raw run destroyed.
    raw = bench_testbed.raw_starts(bed, plan, lambda: wait_disallocated(log, set(names), 120))
    print(f"raw libvirt-python define+create, same TLS URIs: {raw:.1f} s")
    print(
        f"cairn / raw: {took / raw:.2f}x (goal at most 1.1x:"
        f" {'met' if took <= 1.1 * raw else 'NOT met'}); cairn's overhead per VM"
        f" {(took - raw) / count * 1000:.0f} ms"
    )
    # The raw run destroyed cairn's domains (the watcher disallocated them):
    # start them through cairn again for the destroy test, a second figure.
    script = (
        "for d in $(virsh -q list --all --name); do virsh -q destroy $d >/dev/null 2>&1;"
        " virsh -q undefine $d >/dev/null; done"
    )
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda space: space.sh(script), bed.containers))
    t = time.monotonic()
    done = bed.cairn("start", "host", "vm", "scale-*", *told, "output-format=json")
    again = time.monotonic() - t
    print(
        f"cairn start host vm again, its disks made already (raw makes none):"
        f" {again:.1f} s, {again / raw:.2f}x raw"
        f" (goal at most 1.1x: {'met' if again <= 1.1 * raw else 'NOT met'})"
        f" {_results(done.stdout)}"
    )
    service.stats()
    if not preconditions(bed, plan, names) and not go_on:
        raise SystemExit("the storm's preconditions do not hold")
    destroy_all(bed, plan, log, names, hogs)
    service.stats()
    service.stop()


class Service:
    """The frontend's cairn service, started anew once the VMs exist (its watcher
    subscribes to every container holding VMs at once), its log kept."""

    def __init__(self, bed: tb.Testbed) -> None:
        self.bed = bed
        self.log = ROOT / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, containers: int) -> None:
        self.bed.cairn("stop", "service", check=False)
        env = [f"{k}={v}" for k, v in self.bed.env.items()]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.bed.frontend.argv("env", *env, tb.CAIRN, "watch", "refresh=5"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        deadline = time.monotonic() + 300
        while self.log.read_text().count(" watching qemu+tls://") < containers:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"the service did not watch {containers} containers: {self.log}")
            time.sleep(0.5)

    def pid(self) -> int:
        """The service as this machine sees it: `cairn watch` in the frontend's PID namespace."""
        mine = os.readlink(f"/proc/{self.bed.frontend.pid}/ns/pid")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
                if os.readlink(entry / "ns" / "pid") != mine:
                    continue
            except OSError:
                continue
            if any(w.endswith(b"/cairn") for w in words) and b"watch" in words:
                return int(entry.name)
        raise SystemExit("the service is not running")

    def stats(self) -> None:
        pid = self.pid()
        status = Path(f"/proc/{pid}/status").read_text()
        field = {k: v.strip() for k, _, v in (line.partition(":") for line in status.splitlines())}
        fds = os.listdir(f"/proc/{pid}/fd")
        sockets = 0
        for fd in fds:
            try:
                sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
            except OSError:
                continue
        print(
            f"service: RSS {int(field['VmRSS'].split()[0]) / 1024:.0f} MiB"
            f" (peak {int(field['VmHWM'].split()[0]) / 1024:.0f} MiB),"
            f" {field['Threads']} threads, {len(fds)} fds of which {sockets} sockets"
        )

    def stop(self) -> None:
        self.bed.cairn("stop", "service", check=False)
        if self.proc is not None:
            self.proc.wait(timeout=60)


def idle(bed: tb.Testbed, count: int) -> None:
    """The CPU all QEMUs take over 10 s (their boot over), and the load."""
    time.sleep(5)
    pids = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and str(ROOT).encode() in _cmdline(p) and b"qemu-system" in _cmdline(p)
    ]
    first = {p: _ticks(p) for p in pids}
    time.sleep(10)
    used = sum(_ticks(p) - first[p] for p in pids) / os.sysconf("SC_CLK_TCK")
    rss = sum(_rss(p) for p in pids) / 1024
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"{len(pids)} guests' QEMUs (of {count}) over 10 s: {used / 10 * 100:.1f}% of one core"
        f" together, {rss:.0f} MiB resident; load {' '.join(load)}"
    )


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def listing(bed: tb.Testbed, plan: dict[str, list[str]], count: int) -> None:
    words = ["list", "host", "vm", "scale-*", "status=yes"]
    time.sleep(SETTLE)
    said = bed.on_frontend(
        tb.PYTHON, "-c", _ASK, input=json.dumps([words, sorted(plan), RUNS]), timeout=600
    )
    took = json.loads(said.stdout)
    t = time.monotonic()
    heard = bed.cairn(*words).stdout
    whole = time.monotonic() - t
    asked = bed.on_frontend("env", "CAIRN_SERVICE=off", tb.CAIRN, *words, timeout=600).stdout
    states = {line.split()[-1] for line in heard.splitlines()[1:]}
    print(
        f"list host vm status=yes, {count} VMs: {took['service'] * 1000:.0f} ms from the"
        f" service (median of {RUNS}; goal under 50 ms:"
        f" {'met' if took['service'] < 0.05 else 'NOT met'}), {whole * 1000:.0f} ms as a"
        f" `cairn` process; asking the {len(plan)} containers over open connections:"
        f" {took['asked'] * 1000:.0f} ms one after another, {took['side'] * 1000:.0f} ms"
        f" side by side (as the service asks); states {sorted(states)};"
        f" same as asked: {'yes' if heard == asked else 'NO'}"
    )


def _max_workers() -> int:
    from cairn.lifecycle.runner import MAX_WORKERS

    return MAX_WORKERS


def _results(table: str) -> dict[str, int]:
    """{result: how many VMs} of a lifecycle command's JSON table."""
    counts: dict[str, int] = {}
    for row in json.loads(table):
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    return counts


def preconditions(bed: tb.Testbed, plan: dict[str, list[str]], names: list[str]) -> bool:
    """Before the storm: whether every VM runs as libvirt and cairn see it, and is
    allocated in the database (else its destroy would have nothing to release);
    prints what it finds."""
    time.sleep(SETTLE)  # the listing answers from the watcher's states again
    listed = json.loads(bed.cairn("list", "host", "vm", "scale-*", "status=yes",
                                  "output-format=json").stdout)  # fmt: skip
    by_cairn = {row["vm-host"] for row in listed if row.get("status") == "running"}
    by_libvirt: set[str] = set()
    for space in bed.containers:
        if bed.uri(space.name) in plan:
            by_libvirt |= set(space.sh("virsh -q list --state-running --name").split())
    with sqlite3.connect(ROOT / "cairn.db") as db:
        allocated = {
            name
            for (name,) in db.execute(
                "SELECT hosts.name FROM vms JOIN hosts ON hosts.id = vms.host_id"
                " WHERE vms.allocated"
            )
        }
    want = set(names)
    print(
        f"before the storm, of {len(want)}: running as cairn lists them {len(want & by_cairn)},"
        f" as libvirt lists them {len(want & by_libvirt)}, allocated {len(want & allocated)}"
    )
    for what, seen in (("cairn", by_cairn), ("libvirt", by_libvirt), ("the database", allocated)):
        if want - seen:
            print(f"  not running/allocated for {what}: {sorted(want - seen)}")
    return want <= by_cairn & by_libvirt & allocated


def wait_disallocated(log: Path, names: set[str], timeout: float) -> float:
    """Seconds until every one of `names` is in the log (SystemExit after timeout)."""
    t = time.monotonic()
    while not names <= _logged(log).keys():
        if time.monotonic() - t > timeout:
            missing = len(names - _logged(log).keys())
            raise SystemExit(f"{missing} VMs not disallocated after {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - t


def _logged(log: Path) -> dict[str, int]:
    calls: dict[str, int] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            calls[line.split()[0]] = calls.get(line.split()[0], 0) + 1
    return calls


def destroy_all(
    bed: tb.Testbed, plan: dict[str, list[str]], log: Path, names: list[str], hogs: int = 0
) -> None:
    """`virsh destroy` of every guest, on all containers at once: a virsh on each,
    started and connected first, then given its destroys on its stdin; with
    `hogs` processes spinning on the 2 cores meanwhile (the load of a machine
    that runs more than this benchmark)."""
    time.sleep(SETTLE)
    log.write_text("")
    before = len((ROOT / "service.log").read_text().splitlines())
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    procs = {
        space.name: subprocess.Popen(
            space.argv("virsh", "-q"), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        for space in bed.containers
    }
    time.sleep(3)  # each virsh connects to its libvirtd
    t = time.monotonic()
    for name, proc in procs.items():
        assert proc.stdin is not None
        proc.stdin.write("".join(f"destroy {vm}\n" for vm in plan.get(bed.uri(name), [])).encode())
        proc.stdin.close()
    ended: list[float] = []

    def wait() -> None:
        for proc in procs.values():
            proc.wait(timeout=300)
        ended.append(time.monotonic() - t)

    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        wait_disallocated(log, set(names), 60)
        took = time.monotonic() - t
    except SystemExit as exc:
        print(f"destroyed at once: {exc}")
        took = float("inf")
    finally:
        load = Path("/proc/loadavg").read_text().split()[0]
        for hog in spinning:
            hog.kill()
            hog.wait()
    waiter.join()
    destroyed = ended[0]
    time.sleep(5)  # a second call would come now
    said = (ROOT / "service.log").read_text().splitlines()[before:]
    for word in ("lost ", "disallocate failed", "busy", "released already", "ERROR"):
        print(f"  service log lines with {word!r}: {sum(word in line for line in said)}")
    calls = _logged(log)
    twice = sorted(n for n, c in calls.items() if c > 1)
    print(
        f"{len(names)} VMs destroyed at once (virsh, {destroyed:.1f} s; {hogs} busy processes"
        f" beside, load {load}): {len(calls)} disallocated,"
        f" {len(names) / took:.0f} a second,"
        f" {sum(calls.values())} plugin calls, twice: {twice or 'none'};"
        f" all within {took:.1f} s (goal 10 s: {'met' if took <= 10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
