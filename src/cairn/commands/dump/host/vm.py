"""`cairn dump host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import HOSTS

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
        from cairn.inventory.dump import lines, vm_lines
        from cairn.vms.define import vms_for

        vms = vms_for(ctx.session, a["host"], all_if_empty=True)
        return Text(lines(vm_lines(ctx.session, vms)))
