"""`cairn remove host interface`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example
from cairn.commands._iface import IFACE
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes a network interface from hosts."""

    args = (HOST, IFACE)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove host interface compute-0-0 eth0", "Removes eth0."),)
    related = ("list host interface", "add host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup, networks

        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            host.interfaces.remove(networks.find_interface(host, a["iface"]))
