"""`cairn set network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._network import NETWORK_PARAMS
from cairn.errors import UsageError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Changes a network's subnet, netmask, bridge or libvirt network; the rest stays.

    A new subnet must still hold the IPs of the interfaces on the network.
    A new database has Rocks' networks private (10.1.0.0/16) and public (no
    subnet yet): set them to the site's values.
    """

    args = (Arg("network", "the network name", convert=values.label),)
    params = NETWORK_PARAMS
    writes = True
    examples = (
        Example(
            "cairn set network private subnet=10.1.0.0/16 bridge=br0",
            "The private network's subnet, and the bridge its VMs join on containers.",
        ),
        Example(
            "cairn set network public subnet=198.18.10.0 netmask=255.255.255.0",
            "The public network's subnet.",
        ),
    )
    related = ("list network", "add network", "set host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import networks

        if all(a[k] is None for k in ("subnet", "netmask", "bridge", "libvirt_network")):
            raise UsageError(
                "'set network' changes nothing without one of: subnet=, netmask=, bridge=,"
                " libvirt-network= (see: cairn set network help)"
            )
        networks.set_network(
            ctx.session,
            a["network"],
            subnet=a["subnet"],
            netmask=a["netmask"],
            bridge_name=a["bridge"],
            libvirt_network=a["libvirt_network"],
        )
