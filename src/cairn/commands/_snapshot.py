"""What the `... host vm snapshot` commands share: their words and their run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Table

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import VM
    from cairn.hypervisor.connections import Connections

VM_ARG = Arg("host", "the VM's name", metavar="VM")
NAME = Arg("name", "the snapshot's name")
COLUMNS = ("VM-HOST", "SNAPSHOT", "RESULT")
WHY = (
    "The commands are named after the VM's own words (add host vm, set host vm"
    " cdrom): a snapshot belongs to the VM. Snapshots are libvirt's, kept inside"
    " the VM's qcow2 disks (with its memory when it runs); a VM with a raw"
    " (file) or phy disk cannot have them."
)


def on_snapshot(ctx: Context, a: dict[str, Any], act: Callable[[VM, Connections], str]) -> Table:
    from cairn.hypervisor.connections import Connections
    from cairn.vms.define import one_vm

    vm = one_vm(ctx.session, a["host"])
    with Connections() as conns:
        done = act(vm, conns)
    return Table(COLUMNS, [(vm.host.name, a["name"], done)])
