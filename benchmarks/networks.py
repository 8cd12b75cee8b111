"""Figures for issue 9: DHCP/PXE for 1,000 hosts, and a virtual cluster of 32 computes.

    .venv/bin/python benchmarks/networks.py [--hosts 1000] [--computes 32]

1. A SQLite database with N hosts on a managed network (dhcp=yes), each with a
   MAC, an address and boot install. Whole `cairn` processes are timed:
   `report host dhcpd` (rendering only) and `sync config` run three ways in a
   network namespace made here (so dnsmasq binds nothing of the machine's):
   first (every file written, dnsmasq started), again (nothing written, a
   reload) and after one host changed (one PXE file, a reload). The namespace
   and its dnsmasq are removed at the end.
2. `cairn add cluster NAME computes=C` on a database with 8 VM containers on
   the private network: the whole process, and its SQL statements.
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
        said = out.splitlines()[-1].split(None, 1)[1]
        print(f"sync config again (nothing written, reload): {again:.2f} s [{said}]")
        _cairn(url, "set", "host", "boot", "compute-0-7", "action=os")
        one, out = _cairn(url, *words, ns=ns)
        print(f"sync config after one host changed (one PXE file, reload): {one:.2f} s")
        leases = (work / "nb" / "dhcp-hosts").read_text().count("\n")
        pxe = len(list((work / "nb" / "tftp" / "pxelinux.cfg").glob("01-*")))
        print(f"  fixed leases: {leases}, PXE files: {pxe}")
    finally:
        pid_file = work / "nb" / "dnsmasq.pid"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--computes", type=int, default=32)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    bench_dhcp(args.hosts)
    bench_cluster(args.computes)


if __name__ == "__main__":
    main()
