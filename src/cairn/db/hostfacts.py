"""Plain facts about hosts that every layer reads, with no SQLAlchemy: a host row
as a tuple (`HostFacts`), the name this machine goes by, and the order
interfaces are listed in.

They live here, at the bottom, because the seed (which adds this machine as
the frontend), attribute resolution (whose intrinsic attributes are these
facts), the inventory and the VMs all need them. Queries that produce them
belong to cairn.inventory.hostwords.
"""

from __future__ import annotations

import socket
from typing import Any, NamedTuple


class HostFacts(NamedTuple):
    id: int
    name: str
    appliance: str
    os: str
    rack: int
    rank: int
    cpus: int
    appliance_id: int
    os_id: int

    @classmethod
    def of(cls, host: Any) -> HostFacts:
        """The facts of a mapped Host row."""
        names = (host.id, host.name, host.appliance.name, host.os.name)
        return cls(*names, host.rack, host.rank, host.cpus, host.appliance_id, host.os_id)


def local_hostname() -> str:
    """This machine's host name as the database names hosts (the HOST word `localhost`)."""
    return socket.gethostname().split(".")[0].lower()


def natural(name: str) -> tuple[str, int, str]:
    """eth2 < eth10: the trailing number compares as a number. The name itself
    breaks ties (eth1, eth01), so the order never depends on the database's."""
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    return head, int(tail) if tail else -1, name
