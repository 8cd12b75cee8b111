"""`cairn list network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists networks: subnet, bridge, isolation (KIND:ID over CARRIER), DHCP."""

    lists = True
    examples = (Example("cairn list network", "Every network."),)
    related = ("add network", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import Network
        from cairn.inventory.networks import dhcp_word

        nets = ctx.session.execute(select(Network).order_by(Network.name)).scalars()
        return Table(
            (
                "NETWORK",
                "SUBNET",
                "NETMASK",
                "BRIDGE",
                "LIBVIRT-NETWORK",
                "ISOLATION",
                "CARRIER",
                "DHCP",
                "RANGE",
            ),
            [
                (
                    n.name,
                    n.subnet,
                    n.netmask,
                    n.bridge,
                    n.libvirt_network,
                    f"{n.isolation}:{n.isolation_id}" if n.isolation else None,
                    n.carrier.name if n.carrier else None,
                    dhcp_word(n),
                    n.dhcp_range,
                )
                for n in nets
            ],
        )
