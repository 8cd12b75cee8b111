"""`cairn add network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._network import NETWORK_PARAMS, change_of

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a network. VM interfaces on it attach to it on their container.

    They join its libvirt network if it names one, else its bridge on the
    container. A plain network's bridge is made over the container's interface
    on it; an isolated network (isolation=vlan or vxlan, with its id=) gets a
    bridge of its own on every container, joined to the other containers
    through the carrier network: an 802.1Q VLAN device on the container's
    carrier interface, or a VXLAN tunnel between the containers' carrier
    addresses. `cairn sync host network` (or the container's profile) makes
    them. Subnets may not overlap, and an id belongs to one network.
    """

    args = (Arg("network", "the network name", convert=values.label),)
    params = NETWORK_PARAMS
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn add network ib subnet=10.3.0.0 netmask=255.255.0.0 bridge=br-ib",
            "Adds an InfiniBand network whose VM interfaces join bridge br-ib.",
        ),
        Example(
            "cairn add network lab subnet=10.9.0.0/24 isolation=vxlan id=900 carrier=private"
            " dhcp=yes range=10.9.0.100-10.9.0.199",
            "Adds an isolated VXLAN network carried over the private network, with DHCP.",
        ),
        Example(
            "cairn add network blue subnet=10.8.0.0/24 isolation=vlan id=12",
            "Adds a network on 802.1Q VLAN 12 of the containers' private interfaces.",
        ),
    )
    related = ("list network", "set network", "remove network", "sync host network")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import networks

        networks.add_network(
            ctx.session,
            a["network"],
            a["subnet"],
            a["netmask"],
            a["bridge"],
            a["libvirt_network"],
            change_of(a),
        )
