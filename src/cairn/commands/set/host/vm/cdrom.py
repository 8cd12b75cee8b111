"""`cairn set host vm cdrom`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Attaches a CDROM (an ISO file or /dev device on the container) to VMs.

    With a CDROM the boot order is cdrom, network, hd; cdrom=none removes it
    (network, hd). The path must exist on the VM's container. Power the VM off
    and start it again for the change to take effect.
    """

    args = (HOST, Arg("cdrom", "an absolute path on the container, or none"))
    writes = True
    in_batch = True
    examples = (
        Example(
            "cairn set host vm cdrom hosted-vm-0-0-0 cdrom=/var/lib/libvirt/images/rescue.iso",
            "Boots from the ISO next time.",
        ),
        Example("cairn set host vm cdrom hosted-vm-0-0-0 cdrom=none", "Removes the CDROM."),
    )
    related = ("start host vm", "stop host vm", "report host vm config")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup
        from cairn.vms.define import set_cdrom, vm_of
        from cairn.vms.shared import check_vms

        path = None if a["cdrom"].strip().lower() == "none" else a["cdrom"]
        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            vm = vm_of(ctx.session, host)
            set_cdrom(vm, path)
            check_vms(ctx.session, [vm])  # a kvm_ha VM's CDROM must be shared too
