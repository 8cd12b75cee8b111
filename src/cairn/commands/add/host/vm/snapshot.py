"""`cairn add host vm snapshot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._snapshot import NAME, VM_ARG, WHY, on_snapshot

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    __doc__ = f"""Takes a snapshot of a VM, running or off, with a name and a description.

    {WHY} A name the VM has already is refused. The VM must have been
    started once (its definition is on its container).
    """

    args = (VM_ARG, NAME)
    params = (Param("description", "what the snapshot is for", "", metavar="TEXT"),)
    writes = True
    lists = True
    examples = (
        Example(
            "cairn add host vm snapshot hosted-vm-0-0-0 before-upgrade"
            " description='kernel 6.1 still'",
            "Takes a snapshot called before-upgrade.",
        ),
    )
    related = ("list host vm snapshot", "revert host vm snapshot", "remove host vm snapshot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.lifecycle import snapshots

        return on_snapshot(
            ctx, a, lambda vm, c: snapshots.take(ctx.session, vm, c, a["name"], a["description"])
        )
