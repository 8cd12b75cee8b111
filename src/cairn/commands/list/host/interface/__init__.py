"""`cairn list host interface`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists host interfaces: MAC, IP, network, VLAN, name, module, disablekvm.

    NAME is the host's name on that interface (Rocks' name column); DISABLEKVM
    yes means the interface is kept here but left out of the VM's domain.
    """

    args = (HOSTS,)
    lists = True
    examples = (Example("cairn list host interface compute-0-0", "The interfaces of one host."),)
    related = ("add host interface", "list network", "list host interface disablekvm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.inventory.lookup import interfaces_by_host

        rows = [
            (
                h.name,
                i.name,
                i.mac,
                i.ip,
                i.network,
                i.vlan,
                i.hostname,
                i.module,
                i.disablekvm,
            )
            for h, i in interfaces_by_host(ctx.session, a["host"])
        ]
        columns = ("HOST", "IFACE", "MAC", "IP", "SUBNET", "VLAN", "NAME", "MODULE", "DISABLEKVM")
        return Table(columns, rows)
