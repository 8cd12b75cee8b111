"""Where VMs go: the container with the most free memory that fits them.

The example plugin_allocate (through `place`), `add cluster` and `container
evacuate` share this rule, so a virtual cluster is spread, and an evacuated
container's VMs are spread, the way starts are allocated. Only containers in
service count (cairn.inventory.maintenance). Capacity of a container, in MB:
its resolved attribute `kvm_memory_mb`, or 2048 MB per CPU (one default-sized
VM per core). Used: the memory of the VMs allocated there (running or saved).
On a tie the VM stays where it is, otherwise the first by name wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host, Interface
from cairn.errors import CairnError
from cairn.inventory import reach
from cairn.inventory.maintenance import check_in_service

MB_PER_CPU = 2048


def capacity(host: Host, attrs: Mapping[str, str]) -> int:
    given = attrs.get("kvm_memory_mb")
    if given is None:
        return host.cpus * MB_PER_CPU
    try:
        return int(given)
    except ValueError:
        raise CairnError(
            f"attribute kvm_memory_mb of {host.name} is {given!r}, not a number of MB;"
            f" fix it with 'cairn set host attr {host.name} kvm_memory_mb 65536'"
        ) from None


def used_memory(session: Session, *, exclude: int | None = None) -> dict[int, int]:
    """{container id: MB of the VMs allocated there (but VM `exclude`)}, in one query."""
    stmt = select(VM.container_id, func.sum(VM.memory_mb)).where(VM.allocated.is_(True))
    if exclude is not None:
        stmt = stmt.where(VM.id != exclude)
    rows = session.execute(stmt.group_by(VM.container_id)).all()
    return {container_id: int(mb) for container_id, mb in rows}


def choose(
    containers: Iterable[Host], free: Mapping[int, int], need: int, *, current: int | None = None
) -> Host | None:
    """The container with the most free memory that fits `need` MB; None if none does."""
    fits = [c for c in containers if free[c.id] >= need]
    if not fits:
        return None
    return min(fits, key=lambda c: (-free[c.id], c.id != current, c.name))


def vm_capable(session: Session, *, exclude: int | None = None) -> dict[Host, dict[str, str]]:
    """{container in service: its resolved attributes}: the hosts that may run
    VMs (cairn.inventory.reach.vm_capable) but those out of service."""
    capable = reach.vm_capable(session, exclude=exclude)
    refused = check_in_service(session, list(capable))
    return {host: attrs for host, attrs in capable.items() if host.id not in refused}


def place(session: Session, vm: VM) -> Host:
    """The container `vm` should run on by this rule, among those in service that
    reach every network of its interfaces; CairnError saying why when none fits.

    On PostgreSQL and MariaDB the candidates' rows are locked first, so two
    concurrent placements never count the same free memory (SQLite writers
    are serial anyway)."""
    containers = vm_capable(session, exclude=vm.host_id)
    if not containers:
        raise CairnError(
            "no host in service can run VMs (appliance vm-container, or attribute kvm=true)"
        )
    networks = [
        i.network
        for i in session.execute(select(Interface).where(Interface.host_id == vm.host_id)).scalars()
        if i.network is not None
    ]
    containers = {
        c: attrs
        for c, attrs in containers.items()
        if all(reach.why_not(n, c) is None for n in networks)
    }
    if not containers:
        raise CairnError(f"no container in service reaches every network of {vm.host.name}")
    session.execute(
        select(Host.id)
        .where(Host.id.in_([c.id for c in containers]))
        .order_by(Host.id)
        .with_for_update()
    )
    used = used_memory(session, exclude=vm.id)
    free = {c.id: capacity(c, attrs) - used.get(c.id, 0) for c, attrs in containers.items()}
    chosen = choose(containers, free, vm.memory_mb, current=vm.container_id)
    if chosen is None:
        best = max(containers, key=lambda c: free[c.id])
        raise CairnError(
            f"no container has {vm.memory_mb} MB free for {vm.host.name}"
            f" (most: {best.name} with {free[best.id]} MB)"
        )
    return chosen


__all__ = ["MB_PER_CPU", "capacity", "choose", "place", "used_memory", "vm_capable"]
