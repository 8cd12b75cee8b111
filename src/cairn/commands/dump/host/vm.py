"""`cairn dump host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints set host vm lines that recreate VM definitions exactly.

    As Rocks' 'dump host vm': one 'set host vm HOST physnode=...' per VM,
    which makes the host a VM again; replay it where the hosts exist (after
    'cairn remove host vm', or as part of 'cairn dump', which also gives the
    hosts, their interfaces and attributes).
    """

    args = (HOSTS,)
    examples = (
        Example("cairn dump host vm", "Every VM definition as commands."),
        Example(
            "cairn dump host vm hosted-vm-0-0-0",
            "One VM's definition: after 'remove host vm', sh gives it back.",
        ),
    )
    related = ("dump", "set host vm", "remove host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        import pkgutil

        from cairn.commands.set.host import vm as set_host_vm
        from cairn.inventory.dump import lines
        from cairn.vms.define import vms_for
        from cairn.vms.dump import vm_lines

        # A host named like one of these would make the line another command.
        longer = frozenset(m.name for m in pkgutil.iter_modules(set_host_vm.__path__))
        vms = vms_for(ctx.session, a["host"], all_if_empty=True)
        return Text(lines(vm_lines(ctx.session, vms, longer)))
