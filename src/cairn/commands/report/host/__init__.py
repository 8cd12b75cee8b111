"""`cairn report host`: the cluster's /etc/hosts lines (and the `report host ...` commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the cluster's /etc/hosts lines from the database, as Rocks' report host.

    Each host's first interface with an IP address (in interface order, eth2
    before eth10) carries the host's name; each further one is named
    HOST-IFACE. Hosts without addresses are left out. To make them a node's
    own: `cairn report host > /etc/hosts`.
    """

    args = (HOSTS,)
    examples = (
        Example("cairn report host", "Every host's addresses, as /etc/hosts lines."),
        Example("cairn report host 'vm-container-*'", "Only the containers."),
    )
    related = ("add host interface", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from sqlalchemy import select

        from cairn.db.models import Interface
        from cairn.inventory import lookup
        from cairn.inventory.hostsfile import Address, lines

        hosts = lookup.hosts(ctx.session, a["host"])
        ids = {h.id: h.name for h in hosts}
        rows = ctx.session.execute(
            select(Interface.host_id, Interface.name, Interface.ip).where(
                Interface.host_id.in_(list(ids)), Interface.ip.is_not(None)
            )
        ).all()
        found = [Address(ids[h], name, ip) for h, name, ip in rows if ip]
        return Text("\n".join(lines([h.name for h in hosts], found)) + "\n")
