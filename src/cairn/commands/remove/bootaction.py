"""`cairn remove bootaction`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes boot actions."""

    args = (Arg("action", "boot action names", many=True),)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove bootaction rescue", "Removes the rescue boot action."),)
    related = ("add bootaction", "list bootaction")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.netboot import actions

        for name in a["action"]:
            actions.remove_action(ctx.session, name)
