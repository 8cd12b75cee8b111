"""New hosts for MACs no interface has yet, as Rocks' insert-ethers added them:
each is APPLIANCE-RACK-RANK (the next rank in its rack), with eth0 holding the
MAC and the next free address of its network, counted from the top down as
Rocks did. Where the MACs come from (dnsmasq's log, a listing) is
cairn.netboot.discover's; what they boot is the command's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cairn import values
from cairn.db.models import Appliance, Host, Interface, Network
from cairn.errors import CairnError, NotFound
from cairn.inventory import hosts, networks
from cairn.inventory.addresses import next_free


@dataclass(frozen=True)
class Inserted:
    host: str
    mac: str
    ip: str


def unknown(session: Session, macs: Iterable[str]) -> list[str]:
    """The MACs of `macs` that no interface has, in their order."""
    wanted = list(dict.fromkeys(values.mac(m) for m in macs))
    held = set(session.execute(select(Interface.mac).where(Interface.mac.in_(wanted))).scalars())
    return [m for m in wanted if m not in held]


def dhcp_network(session: Session) -> str:
    """The one network this cairn serves DHCP on: the default network of new hosts."""
    names = session.execute(select(Network.name).where(Network.dhcp.is_(True))).scalars().all()
    if len(names) != 1:
        which = ", ".join(sorted(names)) or "none has dhcp=yes"
        raise CairnError(f"give network= for the new hosts (networks with DHCP: {which})")
    return names[0]


def insert(
    session: Session,
    macs: list[str],
    *,
    appliance: str,
    network: str,
    rack: int,
    basename: str | None = None,
) -> list[Inserted]:
    """A host per MAC (see the module's docstring); the MACs must be unknown."""
    if session.execute(select(Appliance.id).where(Appliance.name == appliance)).first() is None:
        raise NotFound(f"there is no appliance {appliance!r} (see: cairn list appliance)")
    base = values.label(basename or appliance)
    top = session.execute(
        select(func.max(Host.rank))
        .join(Appliance)
        .where(Appliance.name == appliance, Host.rack == rack)
    ).scalar()
    rank = -1 if top is None else top
    out = []
    for mac in macs:
        rank += 1
        name = values.label(f"{base}-{rack}-{rank}")
        ip = next_free(session, network)
        host = hosts.add_host(session, name, appliance, rack=rack, rank=rank, cpus=1, os="linux")
        iface = Interface(name="eth0")
        host.interfaces.append(iface)
        networks.check_mac_free(session, mac)
        networks.update_interface(session, iface, mac_=mac, ip_=ip, subnet=network, vlan=None)
        session.flush()  # the next address and rank see this one
        out.append(Inserted(name, mac, ip))
    return out
