"""A host's network plan from the database: the bridges VMs join and what
connects each bridge to its network. Pure data; `container.netsync` applies it
to a running host and the container profile writes it as shell.

Per network the host takes part in, one `BridgePlan`:
- plain network with a bridge, on a VM container with an interface on it: the
  bridge, with that interface as its port; the interface's address moves to
  the bridge (an address on a bridge port would no longer be reached);
- 802.1Q network: the bridge, with a VLAN device on the host's carrier
  interface (`eth0.12`) as its port;
- VXLAN network: the bridge, with a VXLAN device (`vx<id>`) as its port whose
  tunnel ends at the host's carrier address and floods to the carrier
  addresses of every other host on that network (unicast, no multicast needed;
  no device named: packets follow the route to each peer).
A VM container takes part in every network it reaches (a VM may move to it);
any other host only in an isolated network it has an interface on (a frontend
serving DHCP on it).

Every value of a plan is checked again here (a device name, an id, an
address), as it lands in shell and in `ip` commands: a row written into the
database past cairn's commands is refused with one line naming the host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn import values
from cairn.db.models import Host, Interface, Network
from cairn.errors import CairnError
from cairn.inventory.networks import network_of
from cairn.inventory.reach import vm_capable, why_not

VXLAN_PORT = 4789  # IANA's VXLAN port
IFNAMSIZ = 15


@dataclass(frozen=True)
class BridgePlan:
    network: str
    bridge: str
    kind: str  # plain | vlan | vxlan
    port: str  # the device that is the bridge's port
    parent: str | None = None  # vlan: the device on the carrier network
    vid: int | None = None  # the VLAN id or VXLAN id
    local: str | None = None  # vxlan: this host's address on the carrier
    peers: tuple[str, ...] = ()  # vxlan: the other hosts' carrier addresses
    address: str | None = None  # ADDRESS/PREFIX the bridge holds (the host's, on the network)


def _cidr(network: Network, ip: str | None) -> str | None:
    if not ip:
        return None
    if network.subnet:
        return f"{ip}/{network_of(network.subnet, network.netmask).prefixlen}"
    return f"{ip}/{ipaddress.ip_address(ip).max_prefixlen}"


def _address(text: str) -> tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Sorts addresses, IPv4 before IPv6."""
    found = ipaddress.ip_address(text)
    return found.version, found


def _checked(p: BridgePlan) -> BridgePlan:
    """`p`, or ValueError when a value of it is not what it must be."""
    try:
        values.label(p.network)
        for device in (p.bridge, p.port, p.parent):
            if device is not None:
                values.iface_name(device)
        if p.vid is not None and not 1 <= p.vid <= 16777215:
            raise ValueError(f"id {p.vid} is not 1-16777215")
        for address in (p.local, *p.peers):
            if address is not None:
                ipaddress.ip_address(address)
        if p.address is not None:
            ipaddress.ip_interface(p.address)
    except ValueError as exc:
        raise ValueError(f"network {p.network!r}: {exc}") from None
    return p


def plans(session: Session, hosts: Sequence[Host]) -> dict[int, list[BridgePlan]]:
    """{host id: its bridges, carriers first} for every host given."""
    found = session.execute(select(Network).order_by(Network.name)).scalars()
    networks = sorted(found, key=lambda n: n.isolation is not None)  # carriers first
    containers = {h.id for h in vm_capable(session)}
    ifaces: dict[int, list[Interface]] = {}
    for iface in session.execute(select(Interface)).scalars():
        ifaces.setdefault(iface.host_id, []).append(iface)

    def on(host_id: int, network: Network) -> Interface | None:
        return next((i for i in ifaces.get(host_id, []) if i.network_id == network.id), None)

    all_hosts = {h.id: h for h in session.execute(select(Host)).scalars()}

    def takes_part(host: Host, network: Network) -> bool:
        if network.libvirt_network or not network.bridge:
            return False
        if host.id in containers and why_not(network, host) is None:
            return True
        if network.isolation is None or network.carrier is None:
            return False
        carrier = on(host.id, network.carrier)
        return on(host.id, network) is not None and carrier is not None and bool(carrier.ip)

    members = {n.id: [h for h in all_hosts.values() if takes_part(h, n)] for n in networks}
    out: dict[int, list[BridgePlan]] = {}
    for host in hosts:
        try:
            plain: dict[int, BridgePlan] = {}
            isolated: list[BridgePlan] = []
            for n in networks:
                if host not in members[n.id]:
                    continue
                mine = on(host.id, n)
                address = _cidr(n, mine.ip if mine else None)
                if n.isolation is None:
                    assert mine is not None and n.bridge
                    plain[n.id] = BridgePlan(n.name, n.bridge, "plain", mine.name, address=address)
                    continue
                assert n.carrier is not None and n.bridge and n.isolation_id is not None
                carrier = on(host.id, n.carrier)
                assert carrier is not None
                carried = plain.get(n.carrier.id)
                parent = carried.bridge if carried else carrier.name
                if n.isolation == "vlan":
                    port = f"{parent}.{n.isolation_id}"
                    if len(port) > IFNAMSIZ:
                        port = f"vlan{n.isolation_id}"
                    isolated.append(
                        BridgePlan(
                            n.name, n.bridge, "vlan", port, parent, n.isolation_id, address=address
                        )
                    )
                    continue
                peers = sorted(
                    {
                        ip
                        for h in members[n.id]
                        if h.id != host.id
                        and (c := on(h.id, n.carrier)) is not None
                        and (ip := c.ip) is not None
                    },
                    key=_address,
                )
                isolated.append(
                    BridgePlan(
                        n.name,
                        n.bridge,
                        "vxlan",
                        f"vx{n.isolation_id}",
                        None,
                        n.isolation_id,
                        carrier.ip,
                        tuple(peers),
                        address,
                    )
                )
            out[host.id] = [_checked(p) for p in [*plain.values(), *isolated]]
        except ValueError as exc:
            raise CairnError(
                f"host {host.name}: a bad row in the database ({exc}); correct it with"
                " cairn set network or cairn set host interface"
            ) from None
    return out
