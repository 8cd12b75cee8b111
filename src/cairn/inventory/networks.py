"""Networks and host interfaces (MAC, IP, subnet, VLAN), with their checks."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import Host, Interface, Network
from cairn.errors import Conflict, NotFound
from cairn.inventory.lookup import one


def network_of(subnet: str, netmask: str | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network `subnet` (an address, or address/prefix) with `netmask`,
    IPv4 or IPv6 alike (ipaddress reads a netmask after '/' for IPv4 only)."""
    if netmask is None:
        return ipaddress.ip_network(subnet, strict=True)
    mask = ipaddress.ip_address(netmask)
    net = ipaddress.ip_network((subnet, bin(int(mask)).count("1")), strict=True)
    if net.netmask != mask:
        raise ValueError(f"netmask {netmask} is not a run of leading one bits")
    return net


def subnet_and_mask(subnet: str | None, netmask: str | None) -> tuple[str | None, str | None]:
    if subnet is None:
        return None, netmask
    try:
        net = network_of(subnet, netmask)
    except ValueError as exc:
        raise ValueError(
            f"subnet {subnet} / netmask {netmask}: {exc}; give e.g. subnet=10.1.0.0/16"
        ) from None
    return str(net.network_address), str(net.netmask)


def add_network(
    session: Session,
    name: str,
    subnet: str | None,
    netmask: str | None,
    bridge_name: str | None,
    libvirt_network: str | None = None,
) -> Network:
    if session.execute(select(Network.id).where(Network.name == name)).first():
        raise Conflict(f"network {name} exists already (see: cairn list network)")
    try:
        subnet, netmask = subnet_and_mask(subnet, netmask)
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    network = Network(
        name=name,
        subnet=subnet,
        netmask=netmask,
        bridge=bridge_name,
        libvirt_network=libvirt_network,
    )
    session.add(network)
    return network


def set_network(
    session: Session,
    name: str,
    *,
    subnet: str | None = None,
    netmask: str | None = None,
    bridge_name: str | None = None,
    libvirt_network: str | None = None,
) -> Network:
    """Change what is given; a new subnet must still hold its interfaces' IPs."""
    network = one(session, Network, name)
    if subnet is not None or netmask is not None:
        if netmask is None and (subnet is None or "/" not in subnet):
            netmask = network.netmask  # a bare address keeps the netmask, as in Rocks
        try:
            network.subnet, network.netmask = subnet_and_mask(subnet or network.subnet, netmask)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        for iface in session.execute(
            select(Interface).where(Interface.network_id == network.id)
        ).scalars():
            _check_ip(session, iface)
    if bridge_name is not None:
        network.bridge = bridge_name
    if libvirt_network is not None:
        network.libvirt_network = libvirt_network
    return network


def remove_network(session: Session, name: str) -> None:
    network = one(session, Network, name)
    used = session.execute(
        select(Host.name, Interface.name)
        .join(Interface.host)
        .where(Interface.network_id == network.id)
        .limit(3)
    ).all()
    if used:
        where = ", ".join(f"{h}:{i}" for h, i in used)
        raise Conflict(f"network {name} is used by interfaces {where}: remove or change them first")
    session.delete(network)


def find_interface(host: Host, name: str) -> Interface:
    for iface in host.interfaces:
        if iface.name == name:
            return iface
    raise NotFound(f"host {host.name} has no interface {name} (see: cairn list host interface)")


def check_mac_free(session: Session, value: str, keep: Interface | None = None) -> None:
    other = session.execute(select(Interface).where(Interface.mac == value)).scalar_one_or_none()
    if other is not None and other is not keep:
        raise Conflict(f"MAC {value} is already used by {other.host.name} {other.name}")


def update_interface(
    session: Session,
    iface: Interface,
    *,
    mac_: str | None,
    ip_: str | None,
    subnet: str | None,
    vlan: int | None,
) -> None:
    """Set the fields given (None: leave it)."""
    given = {"subnet": subnet, "mac": mac_, "ip": ip_, "vlan": vlan}
    set_fields(session, iface, {k: v for k, v in given.items() if v is not None})


def set_fields(session: Session, iface: Interface, values: dict[str, object]) -> None:
    """Set several fields (None clears one); the IP is checked once, against
    the network it ends up on."""
    for field, value in values.items():
        set_field(session, iface, field, value, check=False)
    if "ip" in values or "subnet" in values:
        _check_ip(session, iface)


FIELDS = ("mac", "ip", "subnet", "vlan", "name", "module", "disablekvm")


def set_field(
    session: Session, iface: Interface, field: str, value: object, *, check: bool = True
) -> None:
    """One field of an interface (Rocks' `set host interface FIELD`); None clears it.
    `check`: check the IP against its network now (else the caller does)."""
    if field == "mac":
        if value is not None:
            check_mac_free(session, str(value), keep=iface)
        iface.mac = value  # type: ignore[assignment]
    elif field == "ip":
        iface.ip = value  # type: ignore[assignment]
    elif field == "subnet":
        iface.network = None if value is None else one(session, Network, str(value))
    elif field == "vlan":
        iface.vlan = value  # type: ignore[assignment]
    elif field == "name":
        iface.hostname = value  # type: ignore[assignment]
    elif field == "module":
        iface.module = value  # type: ignore[assignment]
    elif field == "disablekvm":
        iface.disablekvm = bool(value)
    else:
        raise ValueError(f"no interface field {field}")
    if check and field in ("ip", "subnet"):
        _check_ip(session, iface)


def _check_ip(session: Session, iface: Interface) -> None:
    """An interface's IP lies in its network's subnet and no other interface
    on that network has it."""
    if not iface.ip:
        return
    network = iface.network
    if network is not None and network.subnet and network.netmask:
        subnet = network_of(network.subnet, network.netmask)
        if ipaddress.ip_address(iface.ip) not in subnet:
            raise Conflict(
                f"IP {iface.ip} is not in network {network.name} ({subnet}):"
                " give an address in it, or another subnet="
            )
    with session.no_autoflush:
        same = session.execute(
            select(Interface).where(
                Interface.ip == iface.ip,
                Interface.network_id == network.id
                if network is not None and network.id is not None
                else Interface.network_id.is_(None),
            )
        ).scalars()
        other = next((i for i in same if i is not iface), None)
    if other is not None:
        on = f" on network {network.name}" if network is not None else ""
        raise Conflict(f"IP {iface.ip} is already used by {other.host.name} {other.name}{on}")
