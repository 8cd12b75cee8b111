"""`cairn remove host vm disk`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Table
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context

COLUMNS = ("VM-HOST", "DISK", "RESULT")


class Command(Base):
    """Removes a disk from a VM (unplugged if it runs); delete=yes deletes its volume.

    Its volume stays unless delete=yes. The disk is named by its device
    (vdb) or its path. From a running VM it is hot-unplugged, which the
    guest's system must accept; a guest that does not let it go within 10 s
    keeps it and nothing is changed (stop the VM and remove it then).
    delete=yes also deletes the volume on the container (never a phy device).
    """

    args = (Arg("host", "the VM's name", metavar="VM"), Arg("disk", "device name or path"))
    params = (
        Param("delete", "delete the disk's volume too", False, values.boolean, metavar="BOOL"),
    )
    writes = True
    lists = True
    examples = (
        Example("cairn remove host vm disk hosted-vm-0-0-0 vda", "Takes vda away, keeps its file."),
    )
    related = ("add host vm disk", "list host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.disks import unplug
        from cairn.vms.define import one_vm
        from cairn.vms.vmdisks import find_disk, remove_disk

        vm = one_vm(ctx.session, a["host"])
        disk = find_disk(vm, a["disk"])
        with Connections() as conns:
            done = unplug(ctx.session, vm, disk, conns, delete=a["delete"])
        device = disk.device
        remove_disk(ctx.session, vm, disk)
        return Table(COLUMNS, [(vm.host.name, device, done)])
