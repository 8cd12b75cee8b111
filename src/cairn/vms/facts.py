"""Which VMs a command's HOST words name, and what `list host vm` shows of
them, as plain facts (rows of columns, not mapped objects).

Read with a fixed number of queries over the models, however many VMs;
`define.vms_for` turns the same answer into mapped rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from cairn.db.chunks import where_in
from cairn.db.hostfacts import HostFacts, natural
from cairn.db.models import VM, Host, Interface, VMDisk
from cairn.errors import NotFound
from cairn.inventory.hostwords import host_facts


class VMFacts(NamedTuple):
    id: int
    host: HostFacts
    slice: int
    memory_mb: int
    container_id: int
    container: str
    cdrom: str | None
    uuid: str

    @classmethod
    def of(cls, vm: Any) -> VMFacts:
        """The facts of a mapped VM row (as the session holds it, flushed or not)."""
        return cls(
            vm.id, HostFacts.of(vm.host), vm.slice, vm.memory_mb, vm.container_id,
            vm.container.name, vm.cdrom, vm.uuid,
        )  # fmt: skip


def vm_facts(session: Session, words: list[str], *, all_if_empty: bool = False) -> list[VMFacts]:
    """The VMs the words name, in host order. A word that is the exact name of
    a host that is not a VM is an error; globs and appliance names just pick
    the VMs among their hosts."""
    found = host_facts(session, words, all_if_empty=all_if_empty)
    if not found:
        return []
    container = aliased(Host)
    query = select(
        VM.host_id,
        VM.id,
        VM.slice,
        VM.memory_mb,
        VM.container_id,
        container.name,
        VM.cdrom,
        VM.uuid,
    ).join(container, container.id == VM.container_id)
    if words:
        listed: Sequence[Any] = where_in(session, query, VM.host_id, [h.id for h in found])
    else:
        listed = session.execute(query).all()
    by_host = {r[0]: r for r in listed}
    for h in found:
        if h.id not in by_host and h.name in words:
            raise NotFound(f"host {h.name} is not a virtual machine (see: cairn list host vm)")
    vms = [VMFacts(r[1], h, *r[2:]) for h in found if (r := by_host.get(h.id))]
    if words and not vms:
        raise NotFound(f"no virtual machine matches {' '.join(words)} (see: cairn list host vm)")
    return vms


def macs(session: Session, vms: Sequence[VMFacts]) -> dict[int, list[str]]:
    """{host id: its MACs, interfaces in natural order (eth2 before eth10)}."""
    query = select(Interface.host_id, Interface.name, Interface.mac).where(
        Interface.mac.is_not(None)
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for host_id, name, mac in where_in(session, query, Interface.host_id, _ids(vms, host=True)):
        found.setdefault(host_id, []).append((name, mac))
    # Most VMs have one interface: no order to find.
    return {
        h: [n[0][1]] if len(n) == 1 else [mac for _, mac in sorted(n, key=lambda i: natural(i[0]))]
        for h, n in found.items()
    }


def disks(session: Session, vms: Sequence[VMFacts]) -> dict[int, list[tuple[str, int]]]:
    """{VM id: (TYPE:PATH,DEVICE,BUS, size in GB) of its disks, in order}."""
    query = select(
        VMDisk.vm_id, VMDisk.position, VMDisk.kind, VMDisk.path, VMDisk.device, VMDisk.bus,
        VMDisk.size_gb,
    )  # fmt: skip
    found: dict[int, list[tuple[int, str, int]]] = {}
    for vm_id, position, kind, path, device, bus, size in where_in(
        session, query, VMDisk.vm_id, _ids(vms, host=False)
    ):
        found.setdefault(vm_id, []).append((position, f"{kind}:{path},{device},{bus}", size))
    return {v: [(text, size) for _, text, size in sorted(d)] for v, d in found.items()}


def _ids(vms: Sequence[VMFacts], *, host: bool) -> list[int]:
    return [vm.host.id if host else vm.id for vm in vms]
