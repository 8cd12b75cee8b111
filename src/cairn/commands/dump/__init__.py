"""`cairn dump`: the whole cluster database as cairn commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the commands that recreate the whole cluster database.

    OSes, appliances, networks, hosts, interfaces and attributes of every
    scope, quoted for sh. Replay into a database made with
    `cairn init defaults=no`:
    `cairn dump > cluster.sh`, then with CAIRN_DB_URL set to the new database:
    `cairn init defaults=no && sh cluster.sh`
    """

    examples = (Example("cairn dump", "Prints the whole database as commands."),)
    related = ("init", "dump attr", "dump host attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.inventory.dump import lines
        from cairn.vms.dump import everything

        return Text(lines(everything(ctx.session)))
