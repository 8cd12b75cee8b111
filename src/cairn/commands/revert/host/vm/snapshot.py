"""`cairn revert host vm snapshot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._snapshot import NAME, VM_ARG, WHY, on_snapshot

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    __doc__ = f"""Puts a VM back as it was when a snapshot was taken.

    {WHY} Its disks (and memory, if it ran then) return to that moment. A
    running VM reverted to a snapshot taken while it was off is off after
    it, and is released like a stopped VM (plugin_disallocate, reason
    reverted). Reverting a VM that is off to a snapshot taken while it ran
    would start it, so it is refused: start the VM first.
    """

    args = (VM_ARG, NAME)
    writes = True
    lists = True
    examples = (
        Example(
            "cairn revert host vm snapshot hosted-vm-0-0-0 before-upgrade",
            "Back to before-upgrade.",
        ),
    )
    related = ("add host vm snapshot", "list host vm snapshot", "remove host vm snapshot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.lifecycle import snapshots
        from cairn.lifecycle.hooks import Hooks

        hooks = Hooks.load()
        return on_snapshot(
            ctx, a, lambda vm, c: snapshots.revert(ctx.session, vm, c, hooks, a["name"])
        )
