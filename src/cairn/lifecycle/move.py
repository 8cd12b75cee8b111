"""`move host vm`: run a VM on another container.

A VM that is off only changes container in the database (its old definition
is removed from the old container). A running VM is migrated with libvirt
(live or paused while copying), then recorded on the new container; with
copy-storage its disks are made on the new container first, as `start` makes
them, and libvirt copies their contents. Moving
never disallocates: the VM keeps what it holds (the watcher sees libvirt's
"migrated" and leaves it alone).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Resolved
from cairn.db.models import VM
from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import DomainNotFound
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE, State
from cairn.hypervisor.storage import delete_volume, ensure_volume
from cairn.inventory import reach
from cairn.inventory.containers import container_uris
from cairn.vms.define import change, inventory_host
from cairn.vms.disks import volumes


def move(
    session: Session, vm: VM, target: str, conns: Connections, *, live: bool, copy_storage: bool
) -> str:
    old = vm.container
    new = inventory_host(session, target)
    if new.id == old.id:
        return f"already on {old.name}"
    reach.check_vm_on(session, vm, new)  # before anything changes anywhere
    attrs = resolve(session, [vm.host])[vm.host_id]
    downtime = migrate_downtime(attrs, vm.host.name)
    old_uri = container_uris(session, [old])[old.id]
    try:
        guest: Guest | None = Guest.lookup(conns.get(old_uri), vm.host.name)
    except DomainNotFound:
        guest = None
    state = guest.state() if guest else State.UNDEFINED
    if state is State.SAVED:
        raise CairnError(
            f"{vm.host.name} has a saved image on {old.name}: restore it first, or stop it"
        )
    change(session, vm, physnode=new.name)  # checks that the new host can run VMs
    session.flush()
    new_uri = container_uris(session, [new])[new.id]
    if guest is None:
        return f"moved to {new.name} (it was not defined on {old.name})"
    if state not in ACTIVE:
        guest.undefine()
        return f"moved to {new.name}; starts there next time"
    if old_uri == new_uri:
        raise CairnError(f"{old.name} and {new.name} are the same libvirt host ({new_uri})")
    dest = conns.get(new_uri)
    # Copying storage needs each disk to exist on the new container already
    # (libvirt copies into it): make the missing ones, as `start` does. If the
    # move fails, the ones made here are removed again.
    made: list[str] = []
    try:
        for path, size, fmt in volumes(vm.disks) if copy_storage else ():
            if ensure_volume(dest, path, size, fmt):
                made.append(path)
        guest.migrate(
            dest,
            live=live,
            copy_storage=copy_storage,
            max_downtime_ms=downtime,
            auto_converge=wellknown.flag(attrs, "kvm_migrate_auto_converge", vm.host.name),
        )
    except CairnError:
        for path in made:
            with contextlib.suppress(CairnError):
                delete_volume(dest, path)
        raise
    moved = Guest.lookup(dest, vm.host.name)
    moved.set_autostart(wellknown.flag(attrs, "kvm_autostart", vm.host.name))
    return f"{'live-' if live else ''}migrated to {new.name}"


def migrate_downtime(attrs: Mapping[str, Resolved], host: str) -> int:
    """kvm_migrate_downtime of the VM (ms): its default when unset; a value out of
    range is an error naming the attribute and the scope it came from."""
    value = wellknown.text(attrs, "kvm_migrate_downtime")
    knob = wellknown.lookup("kvm_migrate_downtime")
    assert knob is not None and knob.default is not None
    what = wellknown.what("kvm_migrate_downtime", host, attrs.get("kvm_migrate_downtime"))
    return wellknown.integer("kvm_migrate_downtime", knob.default if value is None else value, what)
