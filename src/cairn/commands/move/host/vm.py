"""`cairn move host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base
from cairn.commands._words import HOST
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Moves a VM to another container.

    A VM that is off just changes container (it starts there next time). A
    running VM is migrated by libvirt: live=yes keeps it running while its
    memory is copied, live=no pauses it meanwhile. Its disks must be on storage
    both containers reach, unless copy-storage=yes: then the disks are made on
    the new container (as `start host vm` makes them) and libvirt copies their
    contents. A live move pauses the VM only while its last memory is copied:
    at most kvm_migrate_downtime milliseconds (50 unless set, e.g. `cairn set
    host attr hosted-vm-0-0-0 kvm_migrate_downtime 200`), slowing down a VM
    that writes memory faster than it is copied unless kvm_migrate_auto_converge
    is false. A guest on emulated CPUs (TCG, domain type qemu) is moved paused
    all the same: QEMU may lose its memory writes in a live move. Moving never
    runs plugin_disallocate.

    If the migration fails, cairn asks both containers where the VM runs, ends
    the leftover copy, and records that container: the old one (the error is
    printed), or the new one if libvirt failed after the switch.
    """

    args = (HOST, Arg("container", "the container to run it on"))
    params = (
        Param("live", "keep the VM running while it moves", True, values.boolean, metavar="BOOL"),
        Param(
            "copy-storage",
            "copy its disks to the new container (no shared storage)",
            False,
            values.boolean,
            metavar="BOOL",
        ),
    )
    writes = True
    examples = (
        Example(
            "cairn move host vm hosted-vm-0-0-0 vm-container-0-1", "Runs it on vm-container-0-1."
        ),
        Example(
            "cairn move host vm hosted-vm-0-0-0 vm-container-0-1 copy-storage=yes",
            "The same, for a VM whose disks are local to its container.",
        ),
    )
    related = ("set host vm", "start host vm", "list host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.move import move
        from cairn.vms.define import vms_for

        vms = vms_for(ctx.session, [a["host"]])
        if len(vms) != 1:
            raise CairnError(f"{a['host']!r} names {len(vms)} VMs; move one at a time")
        with Connections() as conns:
            said = move(
                ctx.session,
                vms[0],
                a["container"],
                conns,
                live=a["live"],
                copy_storage=a["copy_storage"],
            )
        return Text(f"{vms[0].host.name}: {said}\n")
