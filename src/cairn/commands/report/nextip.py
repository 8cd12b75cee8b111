"""`cairn report nextip`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the next free address on a network, as Rocks' `report nextip` did.

    It counts down from the top of the network (increment=-1), or from
    baseip= by increment=, and skips every address an interface has.
    """

    args = (Arg("network", "the network's name (Rocks: the subnet)", convert=values.label),)
    params = (
        Param("increment", "the step from one try to the next", -1, values.integer(), metavar="N"),
        Param(
            "baseip",
            "count from here (default: the broadcast address)",
            None,
            values.ip,
            metavar="IP",
        ),
    )
    examples = (
        Example("cairn report nextip private", "The highest free address on private."),
        Example(
            "cairn report nextip private increment=1 baseip=10.1.0.9",
            "The first free address above 10.1.0.9.",
        ),
    )
    related = ("list network", "add host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.inventory.addresses import next_free

        return Text(next_free(ctx.session, a["network"], a["increment"], a["baseip"]) + "\n")
