"""Networks and host interfaces (MAC, IP, subnet, VLAN), with their checks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

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


ISOLATIONS = ("vlan", "vxlan")
ID_RANGE = {"vlan": (1, 4094), "vxlan": (1, 16777215)}
DEFAULT_CARRIER = "private"
CLUSTER = "cluster"  # dhcp=cluster: the virtual cluster's own frontend serves it


@dataclass
class NetworkChange:
    """What `add network` / `set network` may give; None leaves a field as it is."""

    subnet: str | None = None
    netmask: str | None = None
    bridge: str | None = None
    libvirt_network: str | None = None
    isolation: str | None = None  # vlan | vxlan | none
    isolation_id: int | None = None
    carrier: str | None = None
    dhcp: bool | str | None = None  # True, False or CLUSTER
    dhcp_range: str | None = None  # START-END, or "none"


def add_network(
    session: Session,
    name: str,
    subnet: str | None,
    netmask: str | None,
    bridge_name: str | None,
    libvirt_network: str | None = None,
    change: NetworkChange | None = None,
) -> Network:
    if session.execute(select(Network.id).where(Network.name == name)).first():
        raise Conflict(f"network {name} exists already (see: cairn list network)")
    network = Network(name=name, dhcp=False)
    given = change or NetworkChange()
    given.subnet, given.netmask = subnet, netmask
    given.bridge, given.libvirt_network = bridge_name, libvirt_network
    with session.no_autoflush:
        apply_change(session, network, given)
    session.add(network)
    return network


def apply_change(session: Session, network: Network, c: NetworkChange) -> None:
    """Set the given fields of `network`, then check the whole of it."""
    if c.subnet is not None or c.netmask is not None:
        netmask = c.netmask
        if netmask is None and (c.subnet is None or "/" not in c.subnet):
            netmask = network.netmask  # a bare address keeps the netmask, as in Rocks
        try:
            network.subnet, network.netmask = subnet_and_mask(c.subnet or network.subnet, netmask)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        if network.id is not None:  # a new subnet must still hold its interfaces' IPs
            for iface in session.execute(
                select(Interface).where(Interface.network_id == network.id)
            ).scalars():
                _check_ip(session, iface)
    if c.bridge is not None:
        network.bridge = None if c.bridge == "none" else c.bridge
    if c.libvirt_network is not None:
        network.libvirt_network = c.libvirt_network
    if c.isolation is not None:
        network.isolation = None if c.isolation == "none" else c.isolation
        if network.isolation is None:
            network.isolation_id = None
    if c.isolation_id is not None:
        network.isolation_id = c.isolation_id
    if c.carrier is not None:
        network.carrier = one(session, Network, c.carrier)
    if c.dhcp is not None:
        # The frontend's dnsmasq reads `dhcp` only: a cluster-served network is
        # false there, so whatever reads it stays off that network.
        network.dhcp = c.dhcp is True
        network.dhcp_server = CLUSTER if c.dhcp == CLUSTER else None
    if c.dhcp_range is not None:
        network.dhcp_range = None if c.dhcp_range == "none" else c.dhcp_range
    _check_isolation(session, network)
    _check_subnet_free(session, network)
    _check_bridge_free(session, network)
    _check_range(network)


def _check_isolation(session: Session, network: Network) -> None:
    kind = network.isolation
    if kind is None:
        if network.isolation_id is not None:
            raise Conflict(
                f"network {network.name}: id={network.isolation_id} needs isolation=vlan|vxlan"
            )
        network.carrier = None
        return
    if network.isolation_id is None:
        low, high = ID_RANGE[kind]
        raise Conflict(
            f"network {network.name}: isolation={kind} needs its id= ({low}-{high}),"
            " unique among the networks"
        )
    carried = _carried(session, network)
    if carried:
        raise Conflict(
            f"network {network.name} carries {', '.join(carried)}: a carrier stays plain (not"
            f" isolated); give those networks another carrier= first, or isolate another network"
        )
    low, high = ID_RANGE[kind]
    if not low <= network.isolation_id <= high:
        raise Conflict(
            f"network {network.name}: a {kind} id is {low}-{high}, not {network.isolation_id}"
        )
    other = session.execute(
        select(Network.name).where(
            Network.isolation == kind,
            Network.isolation_id == network.isolation_id,
            Network.name != network.name,
        )
    ).scalar_one_or_none()
    if other is not None:
        raise Conflict(
            f"{kind} id {network.isolation_id} is already used by network {other}; give another id="
        )
    if network.carrier is None:
        carrier = session.execute(
            select(Network).where(Network.name == DEFAULT_CARRIER)
        ).scalar_one_or_none()
        if carrier is None or carrier is network:
            raise Conflict(
                f"network {network.name}: an isolated network needs carrier=NETWORK (the"
                f" network its {kind} traffic crosses; there is no network {DEFAULT_CARRIER})"
            )
        network.carrier = carrier
    if network.carrier is network or network.carrier.isolation is not None:
        raise Conflict(
            f"network {network.name}: its carrier {network.carrier.name} must be a plain"
            " (not isolated) network other than itself"
        )
    if network.bridge is None:
        network.bridge = f"br-{'vl' if kind == 'vlan' else 'vx'}{network.isolation_id}"


def _carried(session: Session, network: Network) -> list[str]:
    """The names of the networks whose carrier is `network`."""
    if network.id is None:
        return []
    return list(
        session.execute(
            select(Network.name)
            .where(Network.carrier_id == network.id, Network.id != network.id)
            .order_by(Network.name)
        ).scalars()
    )


def _check_subnet_free(session: Session, network: Network) -> None:
    if not network.subnet:
        return
    mine = network_of(network.subnet, network.netmask)
    rows = session.execute(
        select(Network.name, Network.subnet, Network.netmask).where(
            Network.subnet.is_not(None), Network.name != network.name
        )
    ).all()
    for name, subnet, netmask in rows:
        try:
            theirs = network_of(subnet or "", netmask)
        except ValueError:
            continue
        if theirs.version == mine.version and mine.overlaps(theirs):
            raise Conflict(
                f"subnet {mine} of network {network.name} overlaps network {name} ({theirs});"
                " give a subnet apart from it"
            )


def _check_bridge_free(session: Session, network: Network) -> None:
    if network.bridge is None:
        return
    other = session.execute(
        select(Network.name).where(Network.bridge == network.bridge, Network.name != network.name)
    ).scalar_one_or_none()
    if other is not None:
        raise Conflict(
            f"bridge {network.bridge} is already the bridge of network {other}; give another"
            " bridge= (one bridge per network)"
        )


def dhcp_word(network: Network) -> str:
    """What `dhcp=` a network has: yes, no or cluster."""
    if network.dhcp_server == CLUSTER:
        return CLUSTER
    return "yes" if network.dhcp else "no"


def dhcp_bounds(network: Network) -> tuple[str, str] | None:
    if not network.dhcp_range:
        return None
    start, _, end = network.dhcp_range.partition("-")
    return start, end


def _check_range(network: Network) -> None:
    if not network.dhcp_range:
        return
    start, sep, end = network.dhcp_range.partition("-")
    hint = "give range=START-END inside its subnet, e.g. range=10.9.0.100-10.9.0.200"
    if not network.subnet:
        raise Conflict(f"network {network.name} has no subnet for its DHCP range: {hint}")
    subnet = network_of(network.subnet, network.netmask)
    try:
        low, high = ipaddress.ip_address(start), ipaddress.ip_address(end)
    except ValueError:
        raise Conflict(f"range {network.dhcp_range!r} of network {network.name}: {hint}") from None
    if not sep or low not in subnet or high not in subnet or int(low) > int(high):
        raise Conflict(f"range {network.dhcp_range} of network {network.name}: {hint}")
    network.dhcp_range = f"{low}-{high}"


def set_network(
    session: Session,
    name: str,
    *,
    subnet: str | None = None,
    netmask: str | None = None,
    bridge_name: str | None = None,
    libvirt_network: str | None = None,
) -> Network:
    """Change what is given (see `apply_change`)."""
    network = one(session, Network, name)
    change = NetworkChange(
        subnet=subnet, netmask=netmask, bridge=bridge_name, libvirt_network=libvirt_network
    )
    with session.no_autoflush:
        apply_change(session, network, change)
    return network


def remove_network(session: Session, name: str) -> None:
    network = one(session, Network, name)
    carried = _carried(session, network)
    if carried:
        raise Conflict(
            f"network {name} carries {', '.join(carried)}: remove those networks or give them"
            " another carrier= first"
        )
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
    """Set the fields given (None: leave it); see `set_fields`."""
    given = {"subnet": subnet, "mac": mac_, "ip": ip_, "vlan": vlan}
    set_fields(session, iface, {k: v for k, v in given.items() if v is not None})


def set_fields(session: Session, iface: Interface, values: dict[str, object]) -> None:
    """Set several fields (None clears one); the IP is checked once, against
    the network it ends up on. With both subnet= and vlan=, the network is the
    802.1Q network of that id (itself, or carried on the named one)."""
    subnet, vlan = values.get("subnet"), values.get("vlan")
    if subnet is not None and vlan is not None:
        # Rocks' form, subnet=private vlan=N, names the VLAN network carried on private.
        named, tagged = one(session, Network, str(subnet)), _vlan_network(session, int(str(vlan)))
        if named is not tagged and tagged.carrier is not named:
            raise Conflict(
                f"vlan={vlan} is network {tagged.name}, which is not network {named.name}"
                f" ({_isolation_words(named)}) nor carried on it; leave vlan= or subnet= out"
            )
        values = {**{k: v for k, v in values.items() if k != "vlan"}, "subnet": tagged.name}
    for field, value in values.items():
        set_field(session, iface, field, value, check=False)
    if "ip" in values or "subnet" in values or "vlan" in values:
        _check_ip(session, iface)


FIELDS = ("mac", "ip", "subnet", "vlan", "name", "module", "disablekvm")


def set_field(
    session: Session, iface: Interface, field: str, value: object, *, check: bool = True
) -> None:
    """One field of an interface (Rocks' `set host interface FIELD`); None clears it.
    `check`: check the IP against its network now (else the caller does).

    The stored VLAN is always the 802.1Q id of the interface's network (or
    none): it is what the containers tag, never a number kept and ignored. So
    vlan=N puts the interface on the network with that 802.1Q id, and a new
    network brings its own VLAN.
    """
    if field == "mac":
        if value is not None:
            check_mac_free(session, str(value), keep=iface)
        iface.mac = value  # type: ignore[assignment]
    elif field == "ip":
        iface.ip = value  # type: ignore[assignment]
    elif field in ("subnet", "vlan"):
        if field == "subnet":
            iface.network = None if value is None else one(session, Network, str(value))
        elif value is not None:
            iface.network = _vlan_network(session, int(str(value)))
        elif iface.network is not None and iface.network.isolation == "vlan":
            raise Conflict(
                f"{iface.name} is on network {iface.network.name}, 802.1Q VLAN"
                f" {iface.network.isolation_id}: its VLAN is its network's; move it to another"
                " network (subnet=) instead"
            )
        network = iface.network
        iface.vlan = network.isolation_id if network and network.isolation == "vlan" else None
        from cairn.inventory import reach

        reach.check_interface(session, iface)
    elif field == "name":
        iface.hostname = value  # type: ignore[assignment]
    elif field == "module":
        iface.module = value  # type: ignore[assignment]
    elif field == "disablekvm":
        iface.disablekvm = bool(value)
    else:
        raise ValueError(f"no interface field {field}")
    if check and field in ("ip", "subnet", "vlan"):
        _check_ip(session, iface)


def _vlan_network(session: Session, vlan: int) -> Network:
    """The network an interface's vlan= puts it on: the one with that 802.1Q id."""
    network = session.execute(
        select(Network).where(Network.isolation == "vlan", Network.isolation_id == vlan)
    ).scalar_one_or_none()
    if network is None:
        raise Conflict(
            f"no network has 802.1Q VLAN id {vlan}: make one (cairn add network NAME"
            f" isolation=vlan id={vlan} subnet=...) or leave vlan= out"
        )
    return network


def _isolation_words(network: Network) -> str:
    if network.isolation is None:
        return "not isolated"
    return f"{network.isolation} id {network.isolation_id}"


def _unusable(
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    """The addresses of a subnet no interface may hold: its network address (IPv6's
    subnet-router anycast) and, for IPv4, its broadcast address."""
    if subnet.version == 4:
        return subnet.network_address, subnet.broadcast_address
    return (subnet.network_address,)


def _check_ip(session: Session, iface: Interface) -> None:
    """An interface's IP lies in its network's subnet and no other interface
    on that network has it."""
    if not iface.ip:
        return
    network = iface.network
    if network is not None and network.subnet and network.netmask:
        subnet = network_of(network.subnet, network.netmask)
        address = ipaddress.ip_address(iface.ip)
        if address not in subnet:
            raise Conflict(
                f"IP {iface.ip} is not in network {network.name} ({subnet}):"
                " give an address in it, or another subnet="
            )
        if subnet.num_addresses > 2 and address in _unusable(subnet):
            kind = "network" if address == subnet.network_address else "broadcast"
            raise Conflict(
                f"IP {iface.ip} is the {kind}"
                f" address of network {network.name} ({subnet}), which no host may have:"
                " give another address in it"
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
