"""`cairn list host`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists hosts: appliance, OS, rack, rank and CPUs."""

    args = (HOSTS,)
    lists = True
    examples = (
        Example("cairn list host", "Every host."),
        Example(
            "cairn list host compute 'vm-container-*'", "All compute hosts and the containers."
        ),
    )
    related = ("add host", "list host attr", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.inventory.hostwords import host_facts

        rows = [
            (h.name, h.appliance, h.os, h.rack, h.rank, h.cpus)
            for h in host_facts(ctx.session, a["host"])
        ]
        return Table(("HOST", "APPLIANCE", "OS", "RACK", "RANK", "CPUS"), rows)
