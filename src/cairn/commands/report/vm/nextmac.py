"""`cairn report vm nextmac` (Rocks' spelling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the MAC address `cairn add host vm` gives next (Rocks' command).

    The lowest free address under vm_mac_base_addr / vm_mac_base_addr_mask, as
    resolved for CONTAINER (default: the global attributes); nothing is taken.
    """

    args = (
        Arg(
            "container",
            "the VM container the VM would go to (its attributes may move the range)",
            required=False,
        ),
    )
    examples = (Example("cairn report vm nextmac", "Prints e.g. 52:54:00:00:00:02."),)
    related = ("add host vm", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.vms import define, macs

        container = None
        if a["container"] is not None:
            container = define.inventory_host(ctx.session, a["container"])
            define.check_container(ctx.session, container)
        base, mask = define.mac_range(ctx.session, container)
        return Text(macs.free(ctx.session, 1, base, mask)[0] + "\n")
