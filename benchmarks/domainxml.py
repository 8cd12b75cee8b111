"""Benchmark: the libvirt domain XML of many VMs (cairn.vms.config.build).

Builds a SQLite database of CONTAINERS vm-containers holding VMS VMs (one disk, one
NIC on a bridged network, every tenth with a CDROM), with the seed's attributes:
cpu_mode (the seed's `exact:` value) globally, kvm_device_0/1 and
kvm_cpu_pinning=pin_all on the hosted-vm appliance, and a kvm_device_2 on every
tenth VM. Then prints:

- the time to read the VMs' facts and build (and validate) the XML of all VMs
  in one process with cairn.vms.config.build, and the SQL statements it issues
  (counted with a before_cursor_execute listener); first run (loads libvirt's
  schema) and the median of RUNS warm runs. VMs alike share one document,
  validated once and filled with each VM's own values (cairn.vms.templates);
- the median wall time of a whole `cairn report host vm config ONE-VM` process
  (and of one for all VMs) with the statement count from CAIRN_SQL_COUNT=1;
  the same for `cairn list host vm` (one VM, and all with showdisks=yes).

Target: all 1,000 documents in under 0.3 s (issue 11).

    .venv/bin/python benchmarks/domainxml.py [--containers 100] [--vms 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable

from cairn_process import measure as process
from sqlalchemy import event, insert, select

from cairn.attrs.escape import escape
from cairn.db.engine import make_engine
from cairn.db.models import (
    OS,
    VM,
    Appliance,
    ApplianceAttr,
    GlobalAttr,
    Host,
    HostAttr,
    Interface,
    Network,
    VMDisk,
)
from cairn.db.schema import ensure_current
from cairn.db.session import open_session
from cairn.vms import config
from cairn.vms.facts import vm_facts

SEED_CPU_MODE = (
    "exact: <model fallback='allow'>core2duo</model><vendor>Intel</vendor>"
    "<topology sockets='1' cores='2'/>"
)
DEVICES = {
    "kvm_device_0": "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    "kvm_device_1": "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
}


def build(url: str, containers: int, vms: int) -> str:
    """Fill the database; returns the name of one VM."""
    engine = make_engine(url, writes=True)
    ensure_current(engine)
    per = -(-vms // containers)
    with engine.begin() as conn:
        apps = dict(conn.execute(select(Appliance.name, Appliance.id)).all())
        os_id = conn.execute(select(OS.id)).scalar_one()
        network = conn.execute(
            select(Network.id).where(Network.name == "private")
        ).scalar_one_or_none()
        if network is None:  # the seed may already hold it
            network = conn.execute(
                insert(Network)
                .values(name="private", subnet="10.1.0.0", bridge="br0")
                .returning(Network.id)
            ).scalar_one()
        conn.execute(
            insert(Host),
            [
                {
                    "name": f"vm-container-{c // 50}-{c % 50}",
                    "appliance_id": apps["vm-container"],
                    "os_id": os_id,
                    "rack": c // 50,
                    "rank": c % 50,
                    "cpus": 32,
                }
                for c in range(containers)
            ],
        )
        container_ids = dict(
            conn.execute(select(Host.name, Host.id).where(Host.name.like("vm-container-%"))).all()
        )
        placed = []  # (vm name, container id, slice, rack, rank)
        for c in range(containers):
            rack, rank = c // 50, c % 50
            for s in range(per):
                if len(placed) == vms:
                    break
                cid = container_ids[f"vm-container-{rack}-{rank}"]
                placed.append((f"hosted-vm-{rack}-{rank}-{s}", cid, s, rack, rank))
        conn.execute(
            insert(Host),
            [
                {
                    "name": name,
                    "appliance_id": apps["hosted-vm"],
                    "os_id": os_id,
                    "rack": rack,
                    "rank": rank,
                    "cpus": 2,
                }
                for name, _, _, rack, rank in placed
            ],
        )
        host_ids = dict(
            conn.execute(select(Host.name, Host.id).where(Host.name.like("hosted-vm-%"))).all()
        )
        conn.execute(
            insert(Interface),
            [
                {
                    "host_id": host_ids[name],
                    "name": "eth0",
                    "mac": f"52:54:00:{i >> 16 & 0xFF:02x}:{i >> 8 & 0xFF:02x}:{i & 0xFF:02x}",
                    "network_id": network,
                }
                for i, (name, *_) in enumerate(placed, start=1)
            ],
        )
        conn.execute(
            insert(VM),
            [
                {
                    "host_id": host_ids[name],
                    "container_id": cid,
                    "slice": s,
                    "memory_mb": 2048,
                    "virt_type": "hvm",
                    "cdrom": "/isos/rescue.iso" if i % 10 == 0 else None,
                    "uuid": str(uuid.uuid4()),
                }
                for i, (name, cid, s, _, _) in enumerate(placed)
            ],
        )
        vm_ids = dict(conn.execute(select(VM.host_id, VM.id)).all())
        conn.execute(
            insert(VMDisk),
            [
                {
                    "vm_id": vm_ids[host_ids[name]],
                    "position": 0,
                    "kind": "file",
                    "path": f"/var/lib/libvirt/images/{name}.vda",
                    "device": "vda",
                    "bus": "virtio",
                    "size_gb": 36,
                }
                for name, *_ in placed
            ],
        )
        conn.execute(
            GlobalAttr.__table__.update()
            .where(GlobalAttr.name == "cpu_mode")
            .values(value=escape(SEED_CPU_MODE))
        )
        conn.execute(
            insert(ApplianceAttr),
            [
                {"appliance_id": apps["hosted-vm"], "name": k, "value": escape(v)}
                for k, v in {**DEVICES, "kvm_cpu_pinning": "pin_all"}.items()
            ],
        )
        conn.execute(
            insert(HostAttr),
            [
                {
                    "host_id": host_ids[name],
                    "name": "kvm_device_2",
                    "value": escape("<panic model='isa'/>"),
                }
                for i, (name, *_) in enumerate(placed)
                if i % 10 == 0
            ],
        )
    engine.dispose()
    return placed[len(placed) // 2][0]


def in_process(url: str, runs: int) -> tuple[float, float, float, int, int]:
    """(first run s, median and best of the warm runs s, SQL statements per run, documents)."""
    times, counts, docs = [], [], 0
    for _ in range(runs + 1):
        session = open_session(url, writes=False)
        count = [0]
        engine = session.get_bind()

        def _count(*_args: object, count: list[int] = count) -> None:
            count[0] += 1

        event.listen(engine, "before_cursor_execute", _count)
        start = time.perf_counter()
        vms = vm_facts(session, [], all_if_empty=True)
        xml = config.build(session, vms)
        times.append(time.perf_counter() - start)
        counts.append(count[0])
        docs = len(xml)
        session.close()
        engine.dispose()  # type: ignore[union-attr]
    warm = times[1:]
    return times[0], statistics.median(warm), min(warm), max(counts), docs


def timed(label: str, step: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = step()
    print(f"{label:44s} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--containers", type=int, default=100)
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ["CAIRN_PLUGIN_PATH"] = ""  # no site plugins in the figures
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        one = timed(
            f"build the database ({args.containers} containers, {args.vms} VMs)",
            lambda: build(url, args.containers, args.vms),
        )
        print(f"{args.runs} warm runs per figure: median / best (the first run shown apart)")
        first, warm, best, statements, docs = in_process(url, args.runs)
        print(
            f"config.build, {docs} documents, validated      first {first * 1000:5.0f} ms"
            f"  warm {warm * 1000:5.0f} / {best * 1000:5.0f} ms  {statements:3d} SQL"
            f"  ({warm / docs * 1e6:.0f} us/document)"
        )
        verdict = "met" if warm < 0.3 else "MISSED"
        print(f"target: {docs} documents < 0.3 s (warm, validated): {verdict}")
        for label, words in (
            ("cairn report host vm config ONE-VM", ["report", "host", "vm", "config", str(one)]),
            (
                "cairn report host vm config hosted-vm (all)",
                ["report", "host", "vm", "config", "hosted-vm"],
            ),
            ("cairn list host vm ONE-VM", ["list", "host", "vm", str(one)]),
            ("cairn list host vm showdisks=yes (all)", ["list", "host", "vm", "showdisks=yes"]),
        ):
            seconds, sql, lines = process(url, words, args.runs)
            print(f"{label:44s} {seconds * 1000:8.0f} ms  {sql:3d} SQL  {lines:7d} lines")


if __name__ == "__main__":
    main()
