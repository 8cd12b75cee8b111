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
        from cairn.vms.facts import vm_facts
        from cairn.vms.listing import table

        # Live state needs the mapped VMs, so status=yes opens the session
        # first and ctx.rows reads through it; without it, no SQLAlchemy at all.
        session = ctx.session if a["status"] else None
        vms = vm_facts(ctx.rows, a["host"], all_if_empty=True)
        states = None
        if session is not None:
            from cairn.vms.define import mapped
            from cairn.vms.status import live_states

            states = live_states(session, mapped(session, vms))
        return Table(*table(ctx.rows, vms, showdisks=a["showdisks"], states=states))
