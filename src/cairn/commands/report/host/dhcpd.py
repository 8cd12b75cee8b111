"""`cairn report host dhcpd`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._netboot import DIR, FRONTEND, directory_of, frontend_of

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the frontend's dnsmasq DHCP/PXE configuration made from the database.

    dnsmasq.conf, then the fixed leases (MAC,IP,NAME: every interface with a MAC
    and an address on a network with dhcp=yes), then each PXE file. Nothing is
    written; `cairn sync config` writes them and (re)starts dnsmasq.
    """

    params = (FRONTEND, DIR)
    examples = (Example("cairn report host dhcpd", "The DHCP and PXE configuration."),)
    related = ("sync config", "set network", "set host boot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.netboot import config

        plan = config.gather(ctx.session, frontend_of(ctx.session, a))
        ctx.notes.extend(plan.notes)
        texts = config.files(plan, directory_of(a))
        return Text("".join(f"# --- {name}\n{text}" for name, text in texts.items()))
