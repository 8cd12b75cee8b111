"""Rows of `list host vm` (and what `dump host vm` needs), in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Interface


def interfaces(session: Session, vms: Sequence[VM]) -> dict[int, list[Interface]]:
    """{host id: interfaces in natural order (eth2 before eth10)}."""
    out: dict[int, list[Interface]] = {}
    stmt = select(Interface).where(Interface.host_id.in_([vm.host_id for vm in vms]))
    for iface in session.execute(stmt).scalars():
        out.setdefault(iface.host_id, []).append(iface)
    for found in out.values():
        found.sort(key=lambda i: natural(i.name))
    return out


def natural(name: str) -> tuple[str, int]:
    """eth2 < eth10: the trailing number compares as a number."""
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    return head, int(tail) if tail else -1


def rows(
    session: Session, vms: Sequence[VM], *, showdisks: bool, status: bool
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    nics = interfaces(session, vms)
    columns: tuple[str, ...] = ("VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "CONTAINER", "CDROM")
    states: dict[int, str] = {}
    if status:
        from cairn.vms.status import live_states

        states = live_states(session, vms)
        columns = (*columns, "STATUS")
    if showdisks:
        columns = (*columns, "DISKS")
    out = []
    for vm in vms:
        macs = [i.mac for i in nics.get(vm.host_id, []) if i.mac]
        row: list[Any] = [
            vm.host.name,
            vm.slice,
            vm.memory_mb,
            vm.host.cpus,
            macs[0] if macs else None,
            vm.container.name,
            vm.cdrom,
        ]
        if status:
            row.append(states.get(vm.id, "unknown"))
        if showdisks:
            row.append(
                " ".join(f"{d.kind}:{d.path},{d.device},{d.bus}:{d.size_gb}G" for d in vm.disks)
            )
        out.append(tuple(row))
    return columns, out
