"""`cairn add network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base
from cairn.values import iface_name

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a network. VM interfaces on it attach to it on their container.

    They join its libvirt network if it names one, else its bridge; a network
    with neither gives VMs user-mode networking (no bridge needed).
    """

    args = (Arg("network", "the network name", convert=values.label),)
    params = (
        Param("subnet", "network address, or address/prefix", metavar="ADDRESS"),
        Param("netmask", "netmask (if subnet has no /prefix)", metavar="MASK"),
        Param(
            "bridge", "the bridge VMs attach to on containers", convert=iface_name, metavar="BRIDGE"
        ),
        Param(
            "libvirt-network",
            "a libvirt network on the containers that VMs join instead of a bridge",
            convert=values.label,
            metavar="NAME",
        ),
    )
    writes = True
    examples = (
        Example(
            "cairn add network ib subnet=10.3.0.0 netmask=255.255.0.0 bridge=br-ib",
            "Adds an InfiniBand network whose VM interfaces join bridge br-ib.",
        ),
    )
    related = ("list network", "remove network", "add host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import networks

        networks.add_network(
            ctx.session, a["network"], a["subnet"], a["netmask"], a["bridge"], a["libvirt_network"]
        )
