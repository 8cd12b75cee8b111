"""Free addresses on a network: the next one `report nextip` gives, counted
from the top of the network down as Rocks did, or up from a base address."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import Interface, Network
from cairn.errors import CairnError, NotFound
from cairn.inventory.networks import network_of


def next_free(session: Session, name: str, increment: int = -1, base: str | None = None) -> str:
    """The first address of network `name`, stepping `increment` from `base`
    (default: its broadcast address, so -1 gives the highest free one), that no
    interface has and that is neither the network's nor its broadcast address."""
    network = session.execute(select(Network).where(Network.name == name)).scalar_one_or_none()
    if network is None:
        raise NotFound(f"there is no network named {name!r} (see: cairn list network)")
    if not network.subnet:
        raise CairnError(
            f"network {name} has no subnet: give it one (cairn set network {name} subnet=CIDR)"
        )
    if increment == 0:
        raise CairnError("increment= must not be 0: give e.g. -1 (down) or 1 (up)")
    net = network_of(network.subnet, network.netmask)
    used = set(
        session.execute(select(Interface.ip).where(Interface.network_id == network.id)).scalars()
    )
    start = net.broadcast_address if base is None else ipaddress.ip_address(base)
    if start not in net:
        raise CairnError(f"baseip={base} is not on network {name} ({net})")
    ends = {net.network_address, net.broadcast_address}
    value = int(start) + increment
    while int(net.network_address) <= value <= int(net.broadcast_address):
        address = ipaddress.ip_address(value)
        if address not in ends and str(address) not in used:
            return str(address)
        value += increment
    raise CairnError(f"network {name} ({net}) has no free address that way")
