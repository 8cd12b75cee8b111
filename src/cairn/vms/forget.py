"""Removing VMs' domain definitions from their containers when the VMs are removed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host
from cairn.errors import CairnError


def forget_domains(session: Session, hosts: Sequence[Host], notes: list[str]) -> None:
    """Undefine the domains of the VMs among `hosts`; refuse if one is running."""
    ids = [h.id for h in hosts]
    vms = session.execute(select(VM).where(VM.host_id.in_(ids))).scalars().all()
    if not vms:
        return
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.errors import ContainerUnreachable, DomainNotFound
    from cairn.hypervisor.guest import Guest
    from cairn.hypervisor.states import ACTIVE
    from cairn.lifecycle.targets import container_uris

    uris = container_uris(session, [vm.container for vm in vms])
    with Connections() as conns:
        for vm in vms:
            try:
                guest = Guest.lookup(conns.get(uris[vm.container_id]), vm.host.name)
            except DomainNotFound:
                continue
            except ContainerUnreachable as exc:
                notes.append(f"{vm.host.name}: its domain may still be defined there: {exc}")
                continue
            state = guest.state()
            if state in ACTIVE:
                raise CairnError(
                    f"{vm.host.name} is {state} on {vm.container.name}: stop it first"
                    f" (cairn stop host vm {vm.host.name})"
                )
            guest.undefine()
