"""`cairn add host vm disk`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Table
from cairn.cli.spec import Command as Base
from cairn.vms.disks import DEFAULT_SIZE_GB

if TYPE_CHECKING:
    from cairn.context import Context

COLUMNS = ("VM-HOST", "DISK", "RESULT")


class Command(Base):
    """Adds a disk to a VM, hot-plugged if the VM runs.

    Named after the VM's own words (`add host vm`, `set host vm cdrom`): the
    disk belongs to the VM's definition. Disk SPEC: TYPE:PATH,DEVICE,BUS as in
    `add host vm` (DEVICE left out: the next free name of the bus). A running
    VM gets the volume made and the disk attached at once (virtio and scsi
    disks can be hot-plugged; libvirt refuses ide); a VM that is off gets it
    when it next starts. A path another VM's disk uses is refused.
    """

    args = (Arg("host", "the VM's name", metavar="VM"),)
    params = (
        Param("disk", "the new disk, TYPE:PATH,DEVICE,BUS", required=True, metavar="SPEC"),
        Param("disksize", "its size in GB", DEFAULT_SIZE_GB, values.integer(1, 1_000_000),
              metavar="GB"),
    )  # fmt: skip
    writes = True
    lists = True
    examples = (
        Example(
            "cairn add host vm disk hosted-vm-0-0-0"
            " disk=qcow2:/var/lib/libvirt/images/hosted-vm-0-0-0.vdb disksize=10",
            "A second, 10 GB qcow2 disk (vdb).",
        ),
    )
    related = ("remove host vm disk", "set host vm", "list host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.disks import plug
        from cairn.vms.define import one_vm
        from cairn.vms.shared import check_vms
        from cairn.vms.vmdisks import add_disk

        vm = one_vm(ctx.session, a["host"])
        disk = add_disk(ctx.session, vm, a["disk"], a["disksize"])
        check_vms(ctx.session, [vm])  # before it is plugged in
        with Connections() as conns:
            done = plug(ctx.session, vm, disk, conns)
        return Table(COLUMNS, [(vm.host.name, disk.device, done)])
