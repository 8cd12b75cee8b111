"""`cairn set host interface`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example
from cairn.commands._iface import IFACE, IFACE_PARAMS
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Changes the MAC, IP, network or VLAN of a host interface; unnamed ones stay."""

    args = (HOST, IFACE)
    params = IFACE_PARAMS
    writes = True
    examples = (
        Example(
            "cairn set host interface compute-0-0 eth0 ip=10.1.255.200", "Gives eth0 a new IP."
        ),
    )
    related = ("list host interface", "add host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup, networks

        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            iface = networks.find_interface(host, a["iface"])
            networks.update_interface(
                ctx.session, iface, mac_=a["mac"], ip_=a["ip"], subnet=a["subnet"], vlan=a["vlan"]
            )
