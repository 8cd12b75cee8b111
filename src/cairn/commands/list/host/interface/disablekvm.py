"""`cairn list host interface disablekvm` (Rocks' listing of one column)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists host interfaces with their disablekvm flag as Rocks did: True or False.

    True: the interface is kept in the database but left out of the VM's
    domain. `cairn list host interface` shows the same flag, as yes/no, with
    the interface's other columns.
    """

    args = (HOSTS,)
    lists = True
    examples = (
        Example("cairn list host interface disablekvm compute-0-0", "Each interface: True/False."),
    )
    related = ("set host interface disablekvm", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.inventory.lookup import interfaces_by_host

        rows = [
            (host.name, iface.name, "True" if iface.disablekvm else "False")
            for host, iface in interfaces_by_host(ctx.session, a["host"])
        ]
        return Table(("HOST", "INTERFACE", "DISABLEKVM"), rows)
