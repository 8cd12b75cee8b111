"""`cairn remove host vm snapshot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._snapshot import NAME, VM_ARG, WHY, on_snapshot

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    __doc__ = f"""Deletes a snapshot of a VM; the VM itself is left as it is.

    {WHY}
    """

    args = (VM_ARG, NAME)
    writes = True
    lists = True
    examples = (
        Example(
            "cairn remove host vm snapshot hosted-vm-0-0-0 before-upgrade",
            "Deletes before-upgrade.",
        ),
    )
    related = ("add host vm snapshot", "list host vm snapshot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.lifecycle import snapshots

        return on_snapshot(ctx, a, lambda vm, c: snapshots.remove(ctx.session, vm, c, a["name"]))
