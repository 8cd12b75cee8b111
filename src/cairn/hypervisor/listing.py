"""The state of every domain on one container, in a constant number of calls.

Per-domain verbs belong in `guest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libvirt

from cairn.hypervisor.connections import where
from cairn.hypervisor.errors import classify
from cairn.hypervisor.states import State, from_libvirt

if TYPE_CHECKING:
    from cairn.hypervisor.guest import Guest


def list_states(conn: libvirt.virConnect) -> dict[str, State]:
    """Domain name -> state for all domains (active and inactive) of the container.

    One getAllDomainStats call returns every domain with its state (listing
    domains and asking each for its state would cost a round trip per domain
    over ssh); only if some are shut off, one more call lists those with a
    managed-save image. A domain missing from the result is UNDEFINED there.
    """
    try:
        stats = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
        codes = {dom.name(): values["state.state"] for dom, values in stats}
        saved: set[str] = set()
        if libvirt.VIR_DOMAIN_SHUTOFF in codes.values():
            flags = libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE
            saved = {dom.name() for dom in conn.listAllDomains(flags)}
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot list guests on {where(conn)}") from None
    return {name: from_libvirt(code, name in saved) for name, code in codes.items()}


def guests(
    conn: libvirt.virConnect, *, active: bool = False, autostart: bool = False
) -> list[Guest]:
    """The guests of a container, optionally only the active / autostart ones."""
    from cairn.hypervisor.guest import Guest

    flags = 0
    if active:
        flags |= libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    if autostart:
        flags |= libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART
    try:
        return [Guest(d) for d in conn.listAllDomains(flags)]
    except libvirt.libvirtError as exc:
        raise classify(exc, f"cannot list guests on {where(conn)}") from None
