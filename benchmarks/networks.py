"""Figures for issue 9: DHCP/PXE for 1,000 hosts, a virtual cluster of 32 computes,
and a real guest's network boot on the testbed.

    .venv/bin/python benchmarks/networks.py [--hosts 1000] [--computes 32] [--pxe]

1. A SQLite database with N hosts on a managed network (dhcp=yes), each with a
   MAC, an address and boot install. Whole `cairn` processes are timed:
   `report host dhcpd` (rendering only) and `sync config` run three ways in a
   network namespace made here (so dnsmasq binds nothing of the machine's):
   first (every file written, dnsmasq started), again (nothing written, a
   reload) and after one host changed (one PXE file, a reload). The namespace
   and its dnsmasq are removed at the end.
2. `cairn add cluster NAME computes=C` on a database with 8 VM containers on
   the private network: the whole process, and its SQL statements.
3. With --pxe, on a testbed of one container (tests/testbed.py, in
   /var/lib/cairn-testbed-bench-pxe, removed at the end; run it under
   `flock /tmp/cairn-system.lock` like every testbed): the time from
   `cairn start host vm` to the guest's first ping reply, pinged from the
   frontend, for a guest that PXE-boots from the frontend's dnsmasq on an
   isolated VXLAN network, and for the testbed's usual guest booted directly
   (kernel and address given by libvirt) on the private network.
Needs root (network namespaces) and dnsmasq (scripts/setup.sh installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cairn_process import CAIRN, measure


def _cairn(url: str, *words: str, ns: str | None = None) -> tuple[float, str]:
    env = {**os.environ, "CAIRN_DB_URL": url, "CAIRN_PLUGIN_PATH": ""}
    argv = [*(["ip", "netns", "exec", ns] if ns else []), CAIRN, *words]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"cairn {' '.join(words)} failed: {done.stderr}")
    return took, done.stdout


def build_hosts(url: str, hosts: int) -> None:
    from cairn.db.models import Host, Interface, Network
    from cairn.db.session import finish, open_session
    from cairn.inventory.hosts import add_host
    from cairn.inventory.networks import add_network
    from cairn.netboot.actions import add_action

    session = open_session(url, writes=True)
    try:
        lab = add_network(session, "lab", "198.18.0.0/20", None, None, None)
        lab.dhcp = True
        add_action(session, "install", "vmlinuz", "initrd.img", "console=ttyS0")
        fe = add_host(session, "fe", "frontend", rack=0, rank=0, cpus=1, os="linux")
        fe.interfaces.append(Interface(name="eth0", ip="198.18.0.1", network=lab))
        for i in range(hosts):
            host: Host = add_host(
                session, f"compute-0-{i}", "compute", rack=0, rank=i, cpus=1, os="linux"
            )
            host.boot = "install"
            address = f"198.18.{(i + 2) // 256}.{(i + 2) % 256}"
            mac = f"52:54:00:10:{i // 256:02x}:{i % 256:02x}"
            host.interfaces.append(Interface(name="eth0", mac=mac, ip=address, network=lab))
        session.flush()
        assert isinstance(lab, Network)
        finish(session, ok=True)
    except BaseException:
        finish(session, ok=False)
        raise


def bench_dhcp(hosts: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="cairn-bench-net-"))
    work.chmod(0o755)
    url = f"sqlite:///{work / 'cairn.db'}"
    subprocess.run(
        [CAIRN, "init"], env={**os.environ, "CAIRN_DB_URL": url}, check=True, capture_output=True
    )
    build_hosts(url, hosts)
    ns = f"cb{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for argv in (
            ["link", "add", "eth0", "type", "veth", "peer", "name", "peer0"],
            ["addr", "add", "198.18.0.1/20", "dev", "eth0"],
            ["link", "set", "eth0", "up"],
            ["link", "set", "lo", "up"],
        ):
            subprocess.run(["ip", "-n", ns, *argv], check=True)
        render, _, lines = measure(
            url, ["report", "host", "dhcpd", "frontend=fe", f"dir={work}/nb"], 3
        )
        print(f"report host dhcpd, {hosts} hosts: {render * 1000:.0f} ms ({lines} lines)")
        words = ["sync", "config", "frontend=fe", f"dir={work}/nb"]
        first, out = _cairn(url, *words, ns=ns)
        print(f"sync config, {hosts} hosts, first (files written, dnsmasq started): {first:.2f} s")
        again, out = _cairn(url, *words, ns=ns)
        said = next(ln for ln in out.splitlines() if ln.startswith("dnsmasq ")).split(None, 1)[1]
        print(f"sync config again (nothing written, reload): {again:.2f} s [{said}]")
        _cairn(url, "set", "host", "boot", "compute-0-7", "action=os")
        one, out = _cairn(url, *words, ns=ns)
        print(f"sync config after one host changed (one PXE file, reload): {one:.2f} s")
        leases = (work / "nb" / "dhcp-hosts").read_text().count("\n")
        pxe = len(list((work / "nb" / "tftp" / "pxelinux.cfg").glob("01-*")))
        print(f"  fixed leases: {leases}, PXE files: {pxe}")
    finally:
        for pid_file in (work / "nb" / "dnsmasq.pid", work / "nb" / "http.pid"):
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(work, ignore_errors=True)


def bench_cluster(computes: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="cairn-bench-cluster-"))
    url = f"sqlite:///{work / 'cairn.db'}"
    try:
        lines = [
            ["set", "network", "private", "subnet=198.18.0.0/24", "bridge=none"],
            ["set", "network", "public", "subnet=198.18.1.0/24"],
        ]
        for i in range(8):
            name = f"vm-container-0-{i}"
            lines += [
                ["add", "host", name, "appliance=vm-container", f"rank={i}", "cpus=32"],
                [
                    "add",
                    "host",
                    "interface",
                    name,
                    "eth0",
                    f"ip=198.18.0.{10 + i}",
                    "subnet=private",
                ],
                [
                    "add",
                    "host",
                    "interface",
                    name,
                    "eth1",
                    f"ip=198.18.1.{10 + i}",
                    "subnet=public",
                ],
            ]
        for words in lines:
            _cairn(url, *words)
        took, _ = _cairn(
            url, "add", "cluster", "bench", f"computes={computes}", "subnet=198.19.0.0/24"
        )
        _, statements, _ = measure(url, ["list", "cluster", "bench"], 1)
        rows = _cairn(url, "list", "cluster", "bench", "output-header=no")[1].splitlines()
        spread = sorted({r.split()[-1] for r in rows})
        print(
            f"add cluster with {computes} computes: {took:.2f} s (whole process;"
            f" {len(rows)} VMs over {len(spread)} containers)"
        )
        print(f"  list cluster: {statements} SQL statements")
    finally:
        shutil.rmtree(work, ignore_errors=True)


PXE_ROOT = Path("/var/lib/cairn-testbed-bench-pxe")


def _first_reply(
    bed: Any, container: str, vm: str, ip: str, timeout: float = 600
) -> tuple[float, float, float]:
    """Seconds from `start host vm`: to its return, to the guest's line on its
    console that it is up, and to the first ping reply after that line (before
    it, iPXE itself answers ping: that is the firmware, not the guest)."""
    console = bed.console(container, vm)
    t = time.monotonic()
    bed.cairn("start", "host", "vm", vm)
    started = time.monotonic() - t
    while not (console.exists() and "cairn-guest: up," in console.read_text(errors="replace")):
        if time.monotonic() - t > timeout:
            raise SystemExit(f"{vm} never said it was up on {console}")
        time.sleep(0.05)
    up = time.monotonic() - t
    while bed.on_frontend("busybox", "ping", "-c1", "-W1", ip, check=False).returncode:
        if time.monotonic() - t > timeout:
            raise SystemExit(f"{vm} never answered ping at {ip}")
    return started, up, time.monotonic() - t


def bench_pxe() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import pxekit
    import testbed as tb

    tb.down(PXE_ROOT)
    bed, _ = tb.Testbed.up(1, PXE_ROOT)
    try:
        container, ip = tb.container_name(0), "198.19.5.11"
        bed.cairn_batch(
            [
                ["add", "network", "bench-pxe", "subnet=198.19.5.0/24", "isolation=vxlan",
                 "id=950", "dhcp=yes"],
                ["add", "host", "interface", tb.FRONTEND, "vxp", "ip=198.19.5.1",
                 "subnet=bench-pxe"],
                ["add", "bootaction", "install", pxekit.KERNEL, pxekit.RAMDISK,
                 f"args={pxekit.BASE_ARGS}"],
                ["add", "host", "vm", container, "name=bench-pxe", "mem=128", "disksize=1",
                 "subnet=bench-pxe", f"ip={ip}"],
                ["set", "host", "boot", "bench-pxe", "action=install"],
                ["add", "host", "vm", container, "name=bench-direct", "mem=128", "disksize=1",
                 "subnet=private", "ip=198.18.1.70"],
            ]
        )  # fmt: skip
        pxekit.sync_networks(bed)
        pxekit.serve(bed, PXE_ROOT / "netboot")
        for vm, how, address in (
            ("bench-pxe", f"PXE boot (iPXE, DHCP, kernel over HTTP; {tb.DOMAIN_TYPE})", ip),
            ("bench-direct", "direct kernel boot (the testbed's usual guest)", "198.18.1.70"),
        ):
            started, up, reply = _first_reply(bed, container, vm, address)
            print(
                f"{how}: start host vm {started:.1f} s; from its start, the guest up"
                f" {up:.1f} s, its first ping reply {reply:.1f} s"
            )
            bed.cairn("stop", "host", "vm", vm, "action=poweroff")
    finally:
        tb.down(PXE_ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--computes", type=int, default=32)
    parser.add_argument("--pxe", action="store_true", help="also boot a guest over PXE")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    bench_dhcp(args.hosts)
    bench_cluster(args.computes)
    if args.pxe:
        bench_pxe()


if __name__ == "__main__":
    main()
