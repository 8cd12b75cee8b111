"""`cairn remove host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Text
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes VM definitions; the hosts stay, with their interfaces and attributes.

    As in Rocks: what goes is the VM's definition (container, slice, memory,
    disks) and its domain on the container; the host itself stays a host of
    the cluster ('cairn remove host' removes it too). A running VM is
    refused: stop it first. The disk images are kept unless disks=yes, which
    deletes the file and qcow2 images on the container (never a phy device).
    'cairn set host vm HOST physnode=CONTAINER' makes the host a VM again.
    """

    args = (VMS,)
    params = (
        Param(
            "disks",
            "also delete the disk images on the container",
            False,
            values.boolean,
            metavar="BOOL",
        ),
    )
    writes = True
    examples = (
        Example("cairn remove host vm hosted-vm-0-0-0", "Forgets the VM; its disk stays."),
        Example(
            "cairn remove host vm hosted-vm-0-0-0 disks=yes", "Forgets the VM and deletes its disk."
        ),
    )
    related = ("remove host", "add host vm", "dump host vm", "stop host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms.define import remove, vms_for
        from cairn.vms.forget import forget_domains

        vms = vms_for(ctx.session, a["host"])
        deleted = forget_domains(ctx.session, [vm.host for vm in vms], ctx.notes, disks=a["disks"])
        lines = []
        for vm in vms:
            lines.append(f"removed the VM definition of {vm.host.name}\n")
            remove(ctx.session, vm)
        lines += [f"deleted disk {path}\n" for path in deleted]
        return Text("".join(lines))
