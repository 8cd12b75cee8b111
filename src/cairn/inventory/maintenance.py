"""Containers out of service: the mark that `container evacuate` sets and `container return` clears.

A container is out of service while its resolved attribute kvm_maintenance is
true (set at host scope by those commands; an administrator may set it at any
scope). Nothing puts a VM on such a container: allocation (cairn.vms.placement)
passes it over, `start` refuses a VM that would run there, and `move` or
`set host vm physnode=` refuse it as the new container. The VMs already running
there go on running until they are moved. This module reads and writes the
mark; where VMs go instead is cairn.vms.placement, moving them is
cairn.lifecycle.evacuate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Resolved, Scope
from cairn.attrs.store import Owner, get, put, remove
from cairn.db.models import Host
from cairn.errors import CairnError

ATTR = "kvm_maintenance"


def out_of_service(attrs: Mapping[str, Resolved], host: str) -> bool:
    """Whether the container with these resolved attributes is out of service."""
    return wellknown.flag(attrs, ATTR, host)


def check_in_service(session: Session, hosts: Sequence[Host]) -> dict[int, CairnError]:
    """{host id: why no VM may go there} of the `hosts` out of service."""
    unique = list({h.id: h for h in hosts}.values())
    resolved = resolve(session, unique)
    return {
        h.id: CairnError(
            f"container {h.name} is out of service (cairn container evacuate); bring it back"
            f" with 'cairn container return {h.name}', or choose another container"
        )
        for h in unique
        if out_of_service(resolved[h.id], h.name)
    }


def refuse_out_of_service(session: Session, host: Host) -> None:
    refused = check_in_service(session, [host])
    if host.id in refused:
        raise refused[host.id]


def set_out_of_service(session: Session, host: Host, out: bool) -> bool:
    """Mark `host` out of service (or back in service) at host scope; False if it
    already was. Back in service also clears a host-scope value that said so."""
    owner = Owner(Scope.HOST, host.id, host.name)
    was = out_of_service(resolve(session, [host])[host.id], host.name)
    if out:
        put(session, owner, ATTR, "true", replace=True)
    elif get(session, owner, ATTR) is not None:
        remove(session, owner, ATTR)
    session.flush()
    now = out_of_service(resolve(session, [host])[host.id], host.name)
    if now != out:
        raise CairnError(
            f"{host.name} is still out of service: its attribute {ATTR} comes from another"
            f" scope (its SOURCE in 'cairn list host attr {host.name}'); set it false there,"
            f" or with 'cairn set host attr {host.name} {ATTR} false'"
        )
    return was != out
