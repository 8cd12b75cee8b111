"""`cairn list host boot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists what hosts get when they boot from the network."""

    args = (Arg("host", "hosts (default: all)", required=False, many=True),)
    lists = True
    examples = (Example("cairn list host boot", "Every host's boot."),)
    related = ("set host boot",)

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.inventory import lookup

        return Table(("HOST", "ACTION"), lookup.boots(ctx.session, a["host"] or []))
