"""`cairn report host vm virt_type` (Rocks' spelling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints a VM's virtualization type: always hvm with KVM (Rocks' command).

    One line per VM; with several, each line starts with the VM's name. The
    type is the one `cairn add host vm virt-type=` stored (`cairn list host vm`
    does not show it: with KVM it is always hvm).
    """

    args = (VMS,)
    examples = (Example("cairn report host vm virt_type hosted-vm-0-0-0", "Prints hvm."),)
    related = ("add host vm", "report host vm config")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms.define import vms_for

        vms = vms_for(ctx.session, a["host"])
        if len(vms) == 1:
            return Text(f"{vms[0].virt_type}\n")
        return Text("".join(f"{vm.host.name}: {vm.virt_type}\n" for vm in vms))
