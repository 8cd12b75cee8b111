"""Example plugin_allocate: start each VM on the container with the most free memory.

The rule is cairn's own (cairn.vms.placement, which `add cluster` uses too):
capacity of a container, in MB, is its resolved attribute `kvm_memory_mb`, or
2048 MB per CPU; used is the memory of the VMs allocated there, running or
saved (they hold their allocation until plugin_disallocate runs). The VM goes
to the VM-capable container with the most free memory that still fits it and
reaches its networks; on a tie it stays where it is, otherwise the first by
name wins. If no container has room, the start of this VM fails and says so.

The choice is recorded in the VM's host attribute `cairn_allocated_on`, which
the example plugin_disallocate removes.

Install: copy to <plugin dir>/start/host/vm/plugin_allocate.py, owned by root,
mode 0644 (see docs/plugins.md).
"""

from __future__ import annotations

from sqlalchemy import select

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put
from cairn.db.models import Host, Interface
from cairn.errors import CairnError
from cairn.inventory.reach import why_not
from cairn.vms.define import change
from cairn.vms.placement import capacity, choose, used_memory, vm_capable

RECORD = "cairn_allocated_on"


def run(*, session, vm):
    containers = vm_capable(session, exclude=vm.host_id)
    if not containers:
        raise CairnError("no host can run VMs (appliance vm-container, or attribute kvm=true)")
    networks = [
        i.network
        for i in session.execute(select(Interface).where(Interface.host_id == vm.host_id)).scalars()
        if i.network is not None
    ]
    containers = {
        c: attrs for c, attrs in containers.items() if all(why_not(n, c) is None for n in networks)
    }
    if not containers:
        raise CairnError(f"no container reaches every network of {vm.host.name}")
    # Concurrent starts on PostgreSQL or MariaDB queue here, so that two of
    # them never count the same free memory. SQLite writers are serial anyway.
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
    if chosen.id != vm.container_id:
        change(session, vm, physnode=chosen.name)
    owner = Owner(Scope.HOST, vm.host.id, vm.host.name)
    put(session, owner, RECORD, chosen.name, replace=True)
