"""Removing VMs' domain definitions (and, when asked, their disks) from their
containers when the VMs are removed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host
from cairn.errors import CairnError


def forget_domains(
    session: Session, hosts: Sequence[Host], notes: list[str], *, disks: bool = False
) -> list[str]:
    """Undefine the domains of the VMs among `hosts`; refuse if one is running.

    With `disks`, also delete the volumes of their file and qcow2 disks (never
    a phy device) and return their paths; a container that cannot be reached
    is then an error, so that no disk is silently left behind.
    """
    ids = [h.id for h in hosts]
    vms = session.execute(select(VM).where(VM.host_id.in_(ids))).scalars().all()
    if not vms:
        return []
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.errors import ContainerUnreachable, DomainNotFound
    from cairn.hypervisor.guest import Guest
    from cairn.hypervisor.states import ACTIVE
    from cairn.hypervisor.storage import delete_volume
    from cairn.inventory.containers import container_uris
    from cairn.vms.disks import volumes

    uris = container_uris(session, [vm.container for vm in vms])
    deleted: list[str] = []
    with Connections() as conns:
        for vm in vms:
            try:
                conn = conns.get(uris[vm.container_id])
                guest = Guest.lookup(conn, vm.host.name)
            except DomainNotFound:
                guest = None
            except ContainerUnreachable as exc:
                if disks:
                    raise CairnError(
                        f"cannot delete the disks of {vm.host.name}: {exc}; try again when"
                        f" {vm.container.name} is up, or leave disks= out to keep them"
                    ) from None
                notes.append(f"{vm.host.name}: its domain may still be defined there: {exc}")
                continue
            if guest is not None:
                state = guest.state()
                if state in ACTIVE:
                    raise CairnError(
                        f"{vm.host.name} is {state} on {vm.container.name}: stop it first"
                        f" (cairn stop host vm {vm.host.name})"
                    )
                guest.undefine()
            if disks:
                deleted += [p for p, _, _ in volumes(vm.disks) if delete_volume(conn, p)]
    return deleted
