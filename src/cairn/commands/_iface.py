"""Parameters shared by the host interface commands."""

from __future__ import annotations

from cairn import values
from cairn.cli.spec import Arg, Param
from cairn.values import iface_name, ip, mac

IFACE = Arg("iface", "the interface name (eth0)", convert=iface_name)
IFACE_PARAMS = (
    Param("mac", "MAC address", convert=mac, metavar="MAC"),
    Param("ip", "IP address", convert=ip, metavar="IP"),
    Param(
        "subnet",
        "the network it is on (see: cairn list network)",
        convert=values.label,
        metavar="NETWORK",
    ),
    Param("vlan", "VLAN id", convert=values.integer(1, 4094), metavar="ID"),
)
