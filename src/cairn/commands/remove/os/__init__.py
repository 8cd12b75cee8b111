"""`cairn remove os` (and, below, `cairn remove os attr`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes an OS that no host uses, with its attributes."""

    args = (Arg("os", "OS names", many=True),)
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove os centos", "Removes the unused OS centos."),)
    related = ("add os", "list os", "set host os")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts

        for name in a["os"]:
            hosts.remove_os(ctx.session, name)
