"""Example plugin_allocate: start each VM on the container with the most free memory.

Capacity of a container, in MB: its resolved attribute `kvm_memory_mb`, or,
when that is not set, 2048 MB per CPU of the container (one default-sized VM
per core). Used: the memory of the VMs already allocated there, running or
saved (they hold their allocation until plugin_disallocate runs). The VM goes
to the VM-capable container with the most free memory that still fits it;
on a tie it stays where it is, otherwise the first by name wins. If no
container has room, the start of this VM fails and says so.

The choice is recorded in the VM's host attribute `cairn_allocated_on`, which
the example plugin_disallocate removes.

Install: copy to <plugin dir>/start/host/vm/plugin_allocate.py, owned by root,
mode 0644 (see docs/plugins.md).
"""

from __future__ import annotations

from sqlalchemy import func, select

from cairn.attrs.escape import unescape
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put
from cairn.db.models import VM, Host
from cairn.errors import CairnError
from cairn.inventory.containers import is_container
from cairn.vms.define import change

MB_PER_CPU = 2048
RECORD = "cairn_allocated_on"


def run(*, session, vm):
    containers = vm_capable(session, vm)
    if not containers:
        raise CairnError("no host can run VMs (appliance vm-container, or attribute kvm=true)")
    # Concurrent starts on PostgreSQL or MariaDB queue here, so that two of
    # them never count the same free memory. SQLite writers are serial anyway.
    session.execute(
        select(Host.id)
        .where(Host.id.in_([c.id for c in containers]))
        .order_by(Host.id)
        .with_for_update()
    )
    used = used_memory(session, vm)
    free = {c.id: capacity(c, attrs) - used.get(c.id, 0) for c, attrs in containers.items()}
    fits = [c for c in containers if free[c.id] >= vm.memory_mb]
    if not fits:
        best = max(containers, key=lambda c: free[c.id])
        raise CairnError(
            f"no container has {vm.memory_mb} MB free for {vm.host.name}"
            f" (most: {best.name} with {free[best.id]} MB)"
        )
    chosen = min(fits, key=lambda c: (-free[c.id], c.id != vm.container_id, c.name))
    if chosen.id != vm.container_id:
        change(session, vm, physnode=chosen.name)
    owner = Owner(Scope.HOST, vm.host.id, vm.host.name)
    put(session, owner, RECORD, chosen.name, replace=True)


def vm_capable(session, vm):
    """{container host: its resolved attributes}, by the rule of `add host vm`."""
    hosts = list(
        session.execute(select(Host).where(Host.id != vm.host_id).order_by(Host.name)).scalars()
    )
    resolved = resolve(session, hosts)
    out = {}
    for host in hosts:
        if is_container(host, resolved[host.id]):
            out[host] = {name: unescape(r.value) for name, r in resolved[host.id].items()}
    return out


def capacity(host, attrs):
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


def used_memory(session, vm):
    """{container id: MB of the other VMs allocated there}, in one query."""
    stmt = (
        select(VM.container_id, func.sum(VM.memory_mb))
        .where(VM.allocated.is_(True), VM.id != vm.id)
        .group_by(VM.container_id)
    )
    return {container_id: int(mb) for container_id, mb in session.execute(stmt).all()}
