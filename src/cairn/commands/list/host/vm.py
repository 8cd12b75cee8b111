"""`cairn list host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists virtual machines: slice, memory, CPUs, first MAC, container, CDROM.

    showdisks=yes adds the disks; status=yes adds the live state from each
    container (one listing per container).
    """

    args = (HOSTS,)
    params = (
        Param("showdisks", "show the disks", False, values.boolean, metavar="BOOL"),
        Param(
            "status", "ask the containers for the live state", False, values.boolean, metavar="BOOL"
        ),
    )
    lists = True
    examples = (
        Example("cairn list host vm", "Every VM."),
        Example("cairn list host vm showdisks=yes", "Every VM with its disks."),
    )
    related = ("add host vm", "set host vm", "start host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.vms.define import vms_for
        from cairn.vms.listing import rows

        vms = vms_for(ctx.session, a["host"], all_if_empty=True)
        columns, table = rows(ctx.session, vms, showdisks=a["showdisks"], status=a["status"])
        return Table(columns, table)
