"""`cairn report host vm config`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the libvirt domain XML of VMs, as `start host vm` would define it.

    Built from the database and each VM's resolved attributes (cpu_mode,
    kvm_cpu_pinning, kvm_device_N, HVM_Features, kvm_machine_type, ...), passed
    through the report/host/vm/config section plugins and checked against
    libvirt's schema. No libvirt connection is needed; the domain type shown is
    kvm (start picks kvm or qemu from the container).
    """

    args = (VMS,)
    examples = (Example("cairn report host vm config hosted-vm-0-0-0", "The XML of one VM."),)
    related = ("start host vm", "list host vm", "set host attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms import config
        from cairn.vms.facts import vm_facts

        vms = vm_facts(ctx.session, a["host"])
        xml = config.build(ctx.session, vms, notes=ctx.notes)
        return Text("".join(xml[vm.id] for vm in vms))
