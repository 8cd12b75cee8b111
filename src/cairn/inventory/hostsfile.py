"""The /etc/hosts lines of the cluster, from the database (Rocks' `report host`).

Pure text from rows: each host's interfaces that have an IP address; the first
one (in natural interface order) carries the host's name, each other one
`HOST-IFACE`. Only names and addresses that are what they claim to be get in,
so no value can add a field or a line to the file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cairn.db.hostfacts import natural

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")

HEADER = (
    "# Made by cairn report host: the cluster's names from the cairn database.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
)


@dataclass(frozen=True)
class Address:
    host: str
    iface: str
    ip: str


def lines(hosts: Sequence[str], addresses: Iterable[Address]) -> list[str]:
    """One line per usable address, hosts in the order given."""
    by_host: dict[str, list[Address]] = {}
    for a in addresses:
        by_host.setdefault(a.host, []).append(a)
    out = list(HEADER)
    for host in hosts:
        first = True
        for a in sorted(by_host.get(host, []), key=lambda a: natural(a.iface)):
            try:
                ip = str(ipaddress.ip_address(a.ip))
            except ValueError:
                continue
            name = host if first else f"{host}-{a.iface}"
            if not all(_LABEL.fullmatch(label) for label in name.split(".")):
                continue
            out.append(f"{ip}\t{name}")
            first = False
    return out
