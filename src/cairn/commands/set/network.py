"""`cairn set network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._network import NETWORK_PARAMS, change_of
from cairn.errors import UsageError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Changes a network: subnet, bridge, isolation and id, carrier, DHCP.

    Fields not named stay as they are; bridge=none, isolation=none and
    range=none clear them. A new subnet must still hold the IPs of the
    interfaces on the network, and the checks of `add network` apply to the
    result. A new database has Rocks' networks private (10.1.0.0/16) and
    public (no subnet yet): set them to the site's values. Apply a change to
    running containers with `cairn sync host network`.
    """

    args = (Arg("network", "the network name", convert=values.label),)
    params = NETWORK_PARAMS
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn set network private subnet=10.1.0.0/16 bridge=br0",
            "The private network's subnet, and the bridge its VMs join on containers.",
        ),
        Example(
            "cairn set network public subnet=198.18.10.0 netmask=255.255.255.0",
            "The public network's subnet.",
        ),
        Example(
            "cairn set network private dhcp=yes range=10.1.200.0-10.1.200.99",
            "The frontend serves DHCP on private, with a range for unknown MACs.",
        ),
    )
    related = ("list network", "add network", "sync host network", "sync config")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.db.models import Network
        from cairn.inventory import lookup, networks

        change = change_of(a)
        if all(v is None for v in vars(change).values()):
            raise UsageError(
                "'set network' changes nothing without one of its parameters"
                " (see: cairn set network help)"
            )
        network = lookup.one(ctx.session, Network, a["network"])
        with ctx.session.no_autoflush:
            networks.apply_change(ctx.session, network, change)
