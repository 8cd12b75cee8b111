"""Parameters that `add network` and `set network` share."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cairn import values
from cairn.cli.spec import Param
from cairn.values import iface_name


def dhcp_value(word: str) -> bool | str:
    """True/False, or "cluster" (served by the cluster's own frontend)."""
    return "cluster" if word.strip().lower() == "cluster" else values.boolean(word)


NETWORK_PARAMS = (
    Param("subnet", "network address, or address/prefix", metavar="ADDRESS"),
    Param("netmask", "netmask (if subnet has no /prefix)", metavar="MASK"),
    Param(
        "bridge",
        "the bridge VMs attach to on containers (isolated: br-vxID / br-vlID by default)",
        convert=iface_name,
        metavar="BRIDGE",
    ),
    Param(
        "libvirt-network",
        "a libvirt network on the containers that VMs join instead of a bridge",
        convert=values.label,
        metavar="NAME",
    ),
    Param(
        "isolation",
        "none; vlan (802.1Q id on the containers' carrier interface, the switch must carry"
        " it); vxlan (a VXLAN overlay over the carrier network's addresses)",
        convert=values.choice("none", "vlan", "vxlan"),
        metavar="KIND",
    ),
    Param(
        "id",
        "the VLAN id (1-4094) or VXLAN id (1-16777215) of an isolated network",
        convert=values.integer(1, 16777215),
        metavar="ID",
    ),
    Param(
        "carrier",
        "the plain network an isolated one crosses (default: private)",
        convert=values.label,
        metavar="NETWORK",
    ),
    Param(
        "dhcp",
        "yes: this frontend's dnsmasq serves DHCP and PXE on it; cluster: the virtual"
        " cluster's own frontend does (its owner's cairn), and this dnsmasq stays off it; no",
        convert=dhcp_value,
        metavar="yes|no|cluster",
    ),
    Param(
        "range",
        "addresses for unknown MACs, START-END inside the subnet (none: fixed leases only)",
        metavar="START-END",
    ),
)


def network_param(name: str, help: str, **changes: Any) -> Param:
    """One of NETWORK_PARAMS, with the help (and anything else) that another
    command's use of it needs (`add cluster` makes a network too)."""
    param = next(p for p in NETWORK_PARAMS if p.name == name)
    return replace(param, help=help, **changes)


def change_of(a: dict[str, Any]) -> Any:
    from cairn.inventory.networks import NetworkChange

    return NetworkChange(
        subnet=a["subnet"],
        netmask=a["netmask"],
        bridge=a["bridge"],
        libvirt_network=a["libvirt_network"],
        isolation=a["isolation"],
        isolation_id=a["id"],
        carrier=a["carrier"],
        dhcp=a["dhcp"],
        dhcp_range=a["range"],
    )
