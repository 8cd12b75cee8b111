"""`cairn remove host`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes hosts with their interfaces, attributes and VM definitions.

    A container that still holds VM definitions is refused: remove or move
    those VMs first.
    """

    args = (Arg("host", "host names, appliance names, globs or localhost", many=True),)
    writes = True
    examples = (Example("cairn remove host compute-0-1", "Removes one host."),)
    related = ("add host", "list host")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts, lookup

        for host in lookup.hosts(ctx.session, a["host"], all_if_empty=False):
            hosts.remove_host(ctx.session, host)
