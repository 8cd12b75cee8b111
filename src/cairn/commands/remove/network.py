"""`cairn remove network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes networks that no interface is on."""

    args = (Arg("network", "network names", many=True),)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove network storage", "Removes the storage network."),)
    related = ("add network", "list network")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import networks

        for name in a["network"]:
            networks.remove_network(ctx.session, name)
