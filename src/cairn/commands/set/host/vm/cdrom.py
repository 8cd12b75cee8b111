"""`cairn set host vm cdrom`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._tenant import HERE_WITH, TENANT
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Attaches a CDROM (an ISO file or /dev device on the container) to VMs.

    With a CDROM the boot order is cdrom, network, hd; cdrom=none removes it
    (network, hd). The path must exist on the VM's container. Power the VM off
    and start it again for the change to take effect.

    With key=, it is a tenant's request: signed with that private key on this
    machine (no database needed) and sent to the Airboss (airboss=), which
    takes only a VM of the key's cluster and only an ISO file under a directory
    the administrator opened to tenants (tenant_iso_dirs in the config file).
    """

    args = (HOST, Arg("cdrom", "an absolute path on the container, or none"))
    params = TENANT
    here_with = HERE_WITH
    writes = True
    in_batch = True
    examples = (
        Example(
            "cairn set host vm cdrom hosted-vm-0-0-0 cdrom=/var/lib/libvirt/images/rescue.iso",
            "Boots from the ISO next time.",
        ),
        Example("cairn set host vm cdrom hosted-vm-0-0-0 cdrom=none", "Removes the CDROM."),
        Example(
            "cairn set host vm cdrom lab-compute-0 cdrom=/srv/iso/rescue.iso"
            " key=~/.cairn/lab-owner airboss=127.0.0.1",
            "A tenant puts an ISO the administrator offers in its compute's drive.",
        ),
    )
    related = ("start host vm", "stop host vm", "report host vm config")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        if a["key"]:
            from cairn.commands._tenant import call

            call(a, "cdrom", a["host"], {"cdrom": a["cdrom"]})
            return
        from cairn.inventory import lookup
        from cairn.vms.define import set_cdrom, vm_of
        from cairn.vms.shared import check_vms

        path = None if a["cdrom"].strip().lower() == "none" else a["cdrom"]
        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            vm = vm_of(ctx.session, host)
            set_cdrom(vm, path)
            check_vms(ctx.session, [vm])  # a kvm_ha VM's CDROM must be shared too
