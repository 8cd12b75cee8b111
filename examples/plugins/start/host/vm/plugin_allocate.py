"""Example plugin_allocate: start each VM on the container with the most free memory.

The rule is cairn's own (cairn.vms.placement, which `add cluster` uses too):
capacity of a container, in MB, is its resolved attribute `kvm_memory_mb`, or
2048 MB per CPU; used is the memory of the VMs allocated there, running or
saved (they hold their allocation until plugin_disallocate runs). The VM goes
to the VM-capable container with the most free memory that still fits it and
reaches its networks; on a tie it stays where it is, otherwise the first by
name wins. Containers out of service (`cairn container evacuate`) are passed
over. If no container has room, the start of this VM fails and says so.

The choice is recorded in the VM's host attribute `cairn_allocated_on`, which
the example plugin_disallocate removes.

Install: copy to <plugin dir>/start/host/vm/plugin_allocate.py, owned by root,
mode 0644 (see docs/plugins.md).
"""

from __future__ import annotations

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put
from cairn.vms.define import change
from cairn.vms.placement import place

RECORD = "cairn_allocated_on"


def run(*, session, vm):
    chosen = place(session, vm)  # raises, saying why, when no container fits
    if chosen.id != vm.container_id:
        change(session, vm, physnode=chosen.name)
    owner = Owner(Scope.HOST, vm.host.id, vm.host.name)
    put(session, owner, RECORD, chosen.name, replace=True)
