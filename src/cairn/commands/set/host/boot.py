"""`cairn set host boot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Sets what hosts get when they boot from the network: install or os.

    install: PXE serves the boot action named by the host's attribute
    installaction (default: install). os: PXE sends it on to its own disk.
    Takes effect with `cairn sync config`.
    """

    args = (HOST,)
    params = (
        Param(
            "action",
            "install | os",
            convert=values.choice("install", "os"),
            required=True,
            metavar="WHAT",
        ),
    )
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example("cairn set host boot compute-0-0 action=install", "Installs it on its next boot."),
        Example("cairn set host boot compute-0-0 action=os", "Boots it from its disk."),
    )
    related = ("add bootaction", "list host boot", "sync config")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup
        from cairn.netboot import actions

        actions.set_boot(lookup.hosts(ctx.session, [a["host"]], all_if_empty=False), a["action"])
