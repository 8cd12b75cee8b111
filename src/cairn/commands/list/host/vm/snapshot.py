"""`cairn list host vm snapshot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._snapshot import VM_ARG, WHY

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    __doc__ = f"""Lists a VM's snapshots, oldest first, the current one marked.

    {WHY} STATE is the VM's state when the snapshot was taken.
    """

    args = (VM_ARG,)
    lists = True
    examples = (Example("cairn list host vm snapshot hosted-vm-0-0-0", "Its snapshots."),)
    related = ("add host vm snapshot", "revert host vm snapshot", "remove host vm snapshot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        import datetime

        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle import snapshots
        from cairn.vms.define import one_vm

        vm = one_vm(ctx.session, a["host"])
        with Connections() as conns:
            found = snapshots.listed(ctx.session, vm, conns)
        rows = [
            (
                vm.host.name,
                s.name,
                datetime.datetime.fromtimestamp(s.created, datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                s.state,
                "yes" if s.current else "no",
                s.description,
            )
            for s in found
        ]
        return Table(("VM-HOST", "SNAPSHOT", "CREATED", "STATE", "CURRENT", "DESCRIPTION"), rows)
