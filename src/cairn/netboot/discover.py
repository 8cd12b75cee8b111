"""MACs that cairn may add as new hosts (cairn insert ethers): those that asked
the frontend's dnsmasq for an address, read from its log in the order they
first asked (as Rocks' insert-ethers learnt new nodes from the DHCP server),
or those in a listing such as `list host macs` prints. Only reading here:
adding the hosts is cairn.inventory.ethers'.

The log is dnsmasq.log in cairn's netboot directory, which `sync config` starts
dnsmasq with; dnsmasq logs every DHCPDISCOVER and DHCPREQUEST, with the device
it came in on, also for a MAC it gives no address.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from pathlib import Path

# "... dnsmasq-dhcp[12]: [SERIAL ]DHCPDISCOVER(br0) [IP ]52:54:00:12:34:56 ..."
_ASKS = re.compile(
    r"dnsmasq-dhcp\[\d+\]: (?:\d+ )?DHCP(?:DISCOVER|REQUEST)\(([^)\s]+)\)(?: [0-9.]+)?"
    r" ([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?![0-9a-f:])"
)
_MAC_WORD = re.compile(r"(?<![0-9a-fA-F:])[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}(?![0-9a-fA-F:])")
LOG = "dnsmasq.log"
POLL = 0.5  # seconds between two reads of the log while waiting


def macs_in(text: str) -> list[str]:
    """Every MAC in `text` (a listing: headers, names and states around them are
    not MACs), lower-case, in order, each once."""
    return list(dict.fromkeys(m.lower() for m in _MAC_WORD.findall(text)))


def asking(log: Path, devices: Collection[str] | None = None) -> list[str]:
    """MACs that asked dnsmasq for an address (on `devices` only, when given),
    in the order they first asked; none when there is no log yet."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return []
    found = (m for m in _ASKS.finditer(text) if devices is None or m.group(1) in devices)
    return list(dict.fromkeys(m.group(2) for m in found))


def wait_for(read: Callable[[], list[str]], count: int, timeout: float) -> tuple[list[str], bool]:
    """Read until `count` MACs are found or `timeout` seconds pass: (what was
    found, whether it was enough)."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if len(found) >= count:
            return found[:count], True
        if time.monotonic() >= deadline:
            return found, False
        time.sleep(POLL)


def own_macs(sys_net: Path = Path("/sys/class/net")) -> set[str]:
    """The MACs of this machine's own devices (in its network namespace): a
    frontend is no new host of its own."""
    out = set()
    for dev in sys_net.iterdir() if sys_net.is_dir() else ():
        try:
            out.add((dev / "address").read_text().strip().lower())
        except OSError:
            continue
    return out
