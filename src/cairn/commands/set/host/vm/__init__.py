"""`cairn set host vm` (and `cairn set host vm cdrom`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param
from cairn.commands._vm import CPUS, DISK, DISKSIZE, MEM, SLICE, UUID, VIRT_TYPE
from cairn.commands._words import HOST
from cairn.errors import CairnError, UsageError

if TYPE_CHECKING:
    from cairn.context import Context

_CHANGES = ("physnode", "mem", "cpus", "disk", "disksize", "slice", "uuid")


class Command(Base):
    """Changes VM definitions: container, memory, CPUs, disks, slice.

    Takes effect the next time the VM is started, except disk sizes: a disk
    whose disksize grows is grown on its container at once (in the running
    VM too); shrinking a disk, or resizing a phy disk, is refused. disk=
    replaces all disks; disksize= alone resizes the first disks in order. A host that is not a VM
    yet becomes one on the container physnode= names, keeping its interfaces
    (how Rocks' 'dump host vm' recreates VMs); what is not given gets the
    defaults of 'add host vm'.
    """

    args = (HOST,)
    params = (
        Param("physnode", "move the definition to this container", metavar="CONTAINER"),
        MEM,
        CPUS,
        replace(DISK, help=f"{DISK.help}; replaces all disks"),
        DISKSIZE,
        SLICE,
        UUID,
        VIRT_TYPE,
    )
    writes = True
    in_batch = True
    examples = (
        Example("cairn set host vm hosted-vm-0-0-0 mem=4096 cpus=2", "More memory and CPUs."),
        Example(
            "cairn set host vm hosted-vm-0-0-0 physnode=vm-container-0-1",
            "Runs it elsewhere next time.",
        ),
        Example(
            "cairn set host vm hosted-vm-0-0-0 disk='file:/var/lib/libvirt/images/a.vda,vda,virtio"
            " file:/var/lib/libvirt/images/b.vdb,vdb,virtio' disksize='67 28'",
            "Two disks of 67 and 28 GB, written as Rocks wrote them.",
        ),
    )
    related = ("add host vm", "list host vm", "dump host vm", "set host vm cdrom")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup
        from cairn.vms.define import change, define, maybe_vm
        from cairn.vms.shared import check_vms

        if all(a[k] in (None, []) for k in _CHANGES):
            raise UsageError(
                "'set host vm' changes nothing without one of: "
                + ", ".join(f"{k}=" for k in _CHANGES)
                + " (see: cairn set host vm help)"
            )
        found = lookup.hosts(ctx.session, [a["host"]], all_if_empty=False)
        for host in found:
            vm = maybe_vm(ctx.session, host)
            if vm is None:
                if a["physnode"] is None:
                    raise CairnError(
                        f"host {host.name} is not a virtual machine; to make it one, give the"
                        " container it runs on: physnode=CONTAINER (see: cairn set host vm help)"
                    )
                if found != [host] or host.name != a["host"]:
                    # Only a host named exactly, alone, becomes a VM: never
                    # every host of an appliance or a glob at once.
                    raise CairnError(
                        f"host {host.name} is not a virtual machine; to make it one, name it"
                        f" alone: cairn set host vm {host.name} physnode={a['physnode']}"
                    )
                define(
                    ctx.session,
                    host,
                    a["physnode"],
                    memory_mb=a["mem"],
                    disks=a["disk"],
                    disksizes=a["disksize"],
                    slice_=a["slice"],
                    uuid=a["uuid"],
                    notes=ctx.notes,
                )
                if a["cpus"] is not None:
                    host.cpus = a["cpus"]
                continue
            before = {d.path: d.size_gb for d in vm.disks}
            change(
                ctx.session,
                vm,
                physnode=a["physnode"],
                memory_mb=a["mem"],
                cpus=a["cpus"],
                disks=a["disk"],
                disksizes=a["disksize"],
                slice_=a["slice"],
                uuid=a["uuid"],
                notes=ctx.notes,
            )
            if a["disk"]:
                ctx.session.flush()
                check_vms(ctx.session, [vm])  # a kvm_ha VM's disks must stay shared
            if a["disksize"] or a["disk"]:
                _follow(ctx, vm, before)


def _follow(ctx: Context, vm: Any, before: dict[str, int]) -> None:
    """Grow the volumes on the container now (see lifecycle.disks)."""
    from cairn.hypervisor.connections import Connections
    from cairn.lifecycle.disks import follow_sizes

    ctx.session.flush()
    with Connections() as conns:
        for done in follow_sizes(ctx.session, vm, before, conns, ctx.notes):
            ctx.note(f"{vm.host.name}: {done}")
