"""The live state of a domain on a container, for the lifecycle verbs.

Which hosts are containers and the URIs that reach them: cairn.inventory.containers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from cairn.inventory.containers import container_uris

if TYPE_CHECKING:
    from cairn.db.models import VM
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.guest import Guest


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
