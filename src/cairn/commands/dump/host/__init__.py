"""`cairn dump host` (and `dump host attr`, `dump host vm` below it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the commands that recreate hosts and their interfaces.

    As Rocks' 'dump host': one 'add host' per host, then 'add host interface'
    for each of its interfaces. With 'cairn dump host vm' after it, VMs too:
    'cairn dump host hosted-vm-0-0-0; cairn dump host vm hosted-vm-0-0-0'.
    Replay where the appliances, OSes and networks exist.
    """

    args = (HOSTS,)
    examples = (
        Example("cairn dump host compute-0-0", "One host and its interfaces as commands."),
        Example(
            "cairn dump host 'hosted-vm-*'", "The VMs' hosts (their definitions: dump host vm)."
        ),
    )
    related = ("dump", "dump host vm", "dump host attr", "add host")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.inventory import lookup
        from cairn.inventory.dump import host_lines, lines

        return Text(lines(host_lines(ctx.session, lookup.hosts(ctx.session, a["host"]))))
