"""`cairn add os` (and `cairn add os attr`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds an operating system name that hosts can have (a new database has linux)."""

    args = (Arg("os", "the OS name", convert=values.label),)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn add os ubuntu", "Hosts may now be added with os=ubuntu."),)
    related = ("list os", "set os attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts

        hosts.add_os(ctx.session, a["os"])
