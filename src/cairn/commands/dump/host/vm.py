"""`cairn dump host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import HOSTS, command_line, lines

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the commands that recreate VM definitions exactly (UUID, MACs, disks).

    Replay after the containers exist; the VMs' own attributes come from
    'cairn dump host attr'.
    """

    args = (HOSTS,)
    examples = (Example("cairn dump host vm", "Every VM definition as commands."),)
    related = ("dump host attr", "add host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms.define import vms_for
        from cairn.vms.listing import interfaces

        vms = vms_for(ctx.session, a["host"], all_if_empty=True)
        nics = interfaces(ctx.session, vms)
        out = []
        for vm in vms:
            mine = nics.get(vm.host_id, [])
            first = mine[0] if mine else None
            out.append(
                command_line(
                    "add",
                    "host",
                    "vm",
                    vm.container.name,
                    vm.host.appliance.name,
                    name=vm.host.name,
                    mem=vm.memory_mb,
                    cpus=vm.host.cpus,
                    slice=vm.slice,
                    num_macs=len(mine),
                    mac=[i.mac for i in mine],
                    uuid=vm.uuid,
                    disk=[f"{d.kind}:{d.path},{d.device},{d.bus}" for d in vm.disks],
                    disksize=[d.size_gb for d in vm.disks],
                    ip=first.ip if first else None,
                    vlan=first.vlan if first else None,
                    subnet=first.network.name if first and first.network else None,
                )
            )
            if vm.cdrom:
                out.append(command_line("set", "host", "vm", "cdrom", vm.host.name, cdrom=vm.cdrom))
        return Text(lines(out))
