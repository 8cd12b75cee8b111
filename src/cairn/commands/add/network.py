"""`cairn add network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._network import NETWORK_PARAMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a network. VM interfaces on it attach to it on their container.

    They join its libvirt network if it names one, else its bridge; a network
    with neither gives VMs user-mode networking (no bridge needed).
    """

    args = (Arg("network", "the network name", convert=values.label),)
    params = NETWORK_PARAMS
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
