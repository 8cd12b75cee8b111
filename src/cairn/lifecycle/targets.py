"""Which libvirt URI reaches each container: the resolved attribute kvm_connection.

It is a URI template in which `{host}` is the container's name, such as
qemu+ssh://{host}/system or qemu+tls://{host}/system; qemu:///system means
this machine. Unset: qemu:///system for this machine, qemu+ssh://{host}/system
for the others (what Rocks did).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from cairn.attrs.escape import unescape
from cairn.attrs.resolve import resolve
from cairn.db.models import Host
from cairn.db.seed import local_hostname

if TYPE_CHECKING:
    from cairn.db.models import VM
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.guest import Guest

LOCAL = "qemu:///system"
REMOTE = "qemu+ssh://{host}/system"


def container_uris(session: Session, containers: Sequence[Host]) -> dict[int, str]:
    """{container host id: libvirt URI}."""
    from cairn.hypervisor.uri import uri_for

    unique = list({h.id: h for h in containers}.values())
    resolved = resolve(session, unique)
    me = local_hostname()
    out = {}
    for host in unique:
        found = resolved[host.id].get("kvm_connection")
        template = unescape(found.value) if found else (LOCAL if host.name == me else REMOTE)
        out[host.id] = uri_for(template, host.name)
    return out


def resolved_flag(session: Session, host: Host, name: str) -> bool:
    from cairn.values import boolean

    found = resolve(session, [host])[host.id].get(name)
    if found is None:
        return False
    try:
        return boolean(unescape(found.value))
    except ValueError:
        return False


def guest_state(conns: object, uri: str, name: str) -> object:
    """The live state of a domain by name (State.UNDEFINED if not defined there)."""
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.errors import DomainNotFound
    from cairn.hypervisor.guest import Guest
    from cairn.hypervisor.states import State

    assert isinstance(conns, Connections)
    try:
        return Guest.lookup(conns.get(uri), name).state()
    except DomainNotFound:
        return State.UNDEFINED


def guest_of(session: Session, vm: VM, conns: Connections) -> Guest:
    """The libvirt guest of one VM on its container (DomainNotFound if not defined there)."""
    from cairn.hypervisor.guest import Guest

    uri = container_uris(session, [vm.container])[vm.container_id]
    return Guest.lookup(conns.get(uri), vm.host.name)
