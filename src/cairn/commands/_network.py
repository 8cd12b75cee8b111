"""Parameters that `add network` and `set network` share."""

from __future__ import annotations

from cairn import values
from cairn.cli.spec import Param
from cairn.values import iface_name

NETWORK_PARAMS = (
    Param("subnet", "network address, or address/prefix", metavar="ADDRESS"),
    Param("netmask", "netmask (if subnet has no /prefix)", metavar="MASK"),
    Param("bridge", "the bridge VMs attach to on containers", convert=iface_name, metavar="BRIDGE"),
    Param(
        "libvirt-network",
        "a libvirt network on the containers that VMs join instead of a bridge",
        convert=values.label,
        metavar="NAME",
    ),
)
