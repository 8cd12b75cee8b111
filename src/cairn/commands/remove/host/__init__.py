"""`cairn remove host`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes hosts with their interfaces, attributes and VM definitions.

    A container that still holds VM definitions is refused: remove or move
    those VMs first. A VM that is running is refused (stop it first); its
    domain definition and saved image on the container are removed (its disks
    are kept). A container that cannot be reached is noted, not fatal.
    """

    args = (Arg("host", "host names, appliance names, globs or localhost", many=True),)
    writes = True
    examples = (
        Example("cairn remove host compute-0-1", "Removes one host."),
        Example("cairn remove host 'compute-0-*'", "Removes every compute-0-N host (says which)."),
    )
    related = ("add host", "list host")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.inventory import hosts, lookup
        from cairn.vms.forget import forget_domains

        found = lookup.hosts(ctx.session, a["host"], all_if_empty=False)
        forget_domains(ctx.session, found, ctx.notes)
        for host in found:
            hosts.remove_host(ctx.session, host)
        # An appliance name or a glob may name many hosts: say which went.
        return Text("".join(f"removed {host.name}\n" for host in found))
