"""Soak: one guest moved live around the testbed's containers, over and over, under ping.

    sudo .venv/bin/python benchmarks/soak.py [--moves 100] [--containers 4] [--load 1]

A testbed guest (tests/testbed.py) is booted on vm-container-0-0, then moved with
`cairn move host vm ... copy-storage=yes` to the next container, round the ring,
`--moves` times, while the frontend pings it every 10 ms and `--load` busy loops
run in every container (nice 0: they compete with QEMU and libvirtd as a
tenant's work would). After each move the guest must answer again within
`--answer` seconds, or it counts as lost; a lost guest is looked at (its console
still ticking? where the frontend's bridge sends its MAC) and asked to announce
itself again (QEMU's announce-self), to tell a network that forgot it from a
guest that died.

Prints, per move: the move's time, the pings lost during it and the longest gap
in milliseconds (the switch-over as the network saw it) next to libvirt's own
measure of the pause (domjobinfo's downtime); then the lost guests (goal: 0),
the switch-over's median and maximum, and the machine's load average. It makes
its own testbed in /var/lib/cairn-testbed-soak and removes it. Figures, not a
test: tests/system/test_system_soak.py runs a short form.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import testbed as tb  # noqa: E402  (after the path to tests/)


def _bench_testbed() -> object:
    # benchmarks/testbed.py's Pinger and downtime reader (a module named like
    # tests/testbed.py, so loaded under another name).
    spec = importlib.util.spec_from_file_location("bench_testbed", HERE / "testbed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench_testbed()
Pinger = bench.Pinger  # type: ignore[attr-defined]
downtime_of = bench._downtime  # type: ignore[attr-defined]

ROOT = Path("/var/lib/cairn-testbed-soak")
VM = "soak-0"
IP = "198.18.1.70"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=100)
    ap.add_argument("--containers", type=int, default=4)
    ap.add_argument("--load", type=int, default=1, help="busy loops per container")
    ap.add_argument("--answer", type=float, default=15.0, help="s a guest may take to answer")
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--live", default="yes", help="move live (yes) or paused (no)")
    ap.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an attribute of the guest (kvm_migrate_auto_converge=false, ...)",
    )
    args = ap.parse_args()
    # Ended by a signal (a run in the background ignores SIGINT): still take the testbed down.
    signal.signal(signal.SIGTERM, _interrupted)

    tb.down(args.root)
    bed, _ = tb.Testbed.up(args.containers, args.root)
    loads: list[subprocess.Popen[bytes]] = []
    try:
        soak(bed, args, loads)
    finally:
        for p in loads:
            p.kill()
            p.wait()
        tb.down(args.root)


def soak(bed: tb.Testbed, args: argparse.Namespace, loads: list[subprocess.Popen[bytes]]) -> None:
    names = [tb.container_name(i) for i in range(args.containers)]
    bed.cairn(
        "add", "host", "vm", names[0], f"name={VM}", "mem=128", "disksize=1", f"ip={IP}",
        "subnet=private",
    )  # fmt: skip
    for words in args.attr:
        bed.cairn("set", "host", "attr", VM, *words.split("=", 1))
    boot(bed)
    for space in bed.containers:
        for _ in range(args.load):
            loads.append(subprocess.Popen(space.argv("sh", "-c", "while :; do :; done")))
    ping = Pinger(bed, IP)
    time.sleep(1.0)
    lost_guests, gaps, downs, took = [], [], [], []
    here = 0
    try:
        for n in range(1, args.moves + 1):
            there = (here + 1) % len(names)
            t = time.monotonic()
            done = bed.cairn(
                "move", "host", "vm", VM, names[there], "copy-storage=yes", f"live={args.live}",
                check=False,
            )  # fmt: skip
            end = time.monotonic()
            if done.returncode != 0:
                print(f"{n:3d} {names[here]} -> {names[there]}: FAILED {done.stderr.strip()}")
            else:
                here = there
            back = _answered_after(ping, end, args.answer)
            sent, gone, longest = ping.during(t, end + 1.0)
            libvirt_ms = downtime_of(bed, names[here], VM) if done.returncode == 0 else "-"
            line = (
                f"{n:3d} -> {names[here]} {end - t:5.1f} s: {gone:3d} of {sent} pings lost,"
                f" switch-over {longest * 10:4d} ms, libvirt's downtime {libvirt_ms} ms"
            )
            if back is None:
                lost_guests.append(n)
                line += "  LOST: " + diagnose(bed, names[here], ping, args.answer)
            print(line, flush=True)
            if back is None:  # a new guest, to go on counting
                bed.cairn("stop", "host", "vm", VM, "action=poweroff")
                boot(bed)
            took.append(end - t)
            gaps.append(longest * 10)
            if libvirt_ms.isdigit():
                downs.append(int(libvirt_ms))
    finally:
        ping.stop()
    print(f"moves: {len(took)}, median {statistics.median(took):.1f} s")
    print(f"lost guests: {len(lost_guests)} {lost_guests} (goal 0)")
    print(
        f"switch-over (longest ping gap): median {statistics.median(gaps):.0f} ms,"
        f" max {max(gaps)} ms; libvirt's downtime: median"
        f" {statistics.median(downs) if downs else '?'} ms, max {max(downs, default='?')} ms"
    )
    print(f"load average at the end: {os.getloadavg()}, {os.cpu_count()} CPUs")


def boot(bed: tb.Testbed) -> None:
    bed.cairn("start", "host", "vm", VM)
    deadline = time.monotonic() + 600
    while not answers(bed, IP):
        if time.monotonic() > deadline:
            raise SystemExit("the guest never answered ping")


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def answers(bed: tb.Testbed, ip: str) -> bool:
    done = bed.on_frontend("busybox", "ping", "-c1", "-W1", ip, check=False)
    return done.returncode == 0


def _answered_after(ping: object, since: float, within: float) -> float | None:
    """When the first reply after `since` came, waiting up to `within` s for it."""
    deadline = since + within
    while True:
        for when, line in reversed(ping.lines):  # type: ignore[attr-defined]
            if when < since:
                break
            if "seq=" in line:
                return float(when)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def diagnose(bed: tb.Testbed, container: str, ping: object, within: float) -> str:
    """What a guest that stopped answering still does, and whether an announce brings it back."""
    console = bed.console(container, VM).read_text(errors="replace")
    said = [line for line in console.splitlines() if line.startswith("[")]
    ticks = re.findall(r"uptime ([0-9.]+)", console)
    time.sleep(2)
    later = re.findall(r"uptime ([0-9.]+)", bed.console(container, VM).read_text(errors="replace"))
    alive = (
        "console ticking"
        if later and later[-1] != (ticks[-1] if ticks else None)
        else "console still"
    )
    fdb = bed.frontend.run("bridge", "fdb", "show", "br", tb.BRIDGE, check=False).stdout
    states = {
        s.name: s.run("virsh", "-q", "list", "--all", check=False).stdout.strip()
        for s in bed.containers
    }
    t = time.monotonic()
    bed.container(container).run(
        "virsh", "qemu-monitor-command", VM, '{"execute": "announce-self", "arguments":'
        ' {"initial": 50, "max": 550, "rounds": 5, "step": 100}}', check=False,
    )  # fmt: skip
    revived = _answered_after(ping, t, within)
    return (
        f"{alive}; domains {states}; frontend fdb: {len(fdb.splitlines())} entries;"
        f" after announce-self: {'answers' if revived else 'still silent'}; kernel: {said[:2]}"
    )


if __name__ == "__main__":
    main()
