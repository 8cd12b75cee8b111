"""`cairn remove appliance`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes an appliance that no host uses, with its attributes."""

    args = (Arg("appliance", "appliance names", many=True),)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove appliance login", "Removes the unused appliance login."),)
    related = ("add appliance", "list appliance")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts

        for name in a["appliance"]:
            hosts.remove_appliance(ctx.session, name)
