"""`move host vm`: run a VM on another container.

A VM that is off only changes container in the database (its old definition
is removed from the old container). A running VM is migrated with libvirt
(live or paused while copying), then recorded on the new container; with
copy-storage its disks are made on the new container first, as `start` makes
them, and libvirt copies their contents. Moving
never disallocates: the VM keeps what it holds (the watcher sees libvirt's
"migrated" and leaves it alone).

A migration that fails leaves the VM where both containers say it runs
(cairn.lifecycle.settle: the other copy ended), and the database says that
container: the old one (the error is raised, the command's change undone), or
the new one when the switch was made before libvirt failed (then it is a
move that happened, and said so).
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
from cairn.lifecycle.settle import Side, settle
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
    paused = live and not live_safe(guest.domain_type())
    live = live and not paused
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
    except CairnError as exc:
        # libvirt's error does not say where the VM is: ask both containers,
        # so that the database records the one it runs on, and only one does.
        side = settle(guest, conns, new_uri, resume=state in (State.RUNNING, State.BLOCKED))
        if side is not Side.NEW:
            for path in made:
                with contextlib.suppress(CairnError):
                    delete_volume(dest, path)
            raise _failed(exc, side, vm.host.name, old.name, new.name) from None
        return f"{_landed(attrs, vm, dest, live, new.name)}, though libvirt said: {exc}"
    said = _landed(attrs, vm, dest, live, new.name)
    return f"{said} (paused while copied: {_TCG})" if paused else said


# Seen on the testbed (benchmarks/soak.py, load 8-16 on 2 cores): a guest moved
# live under TCG broke in 4 of 89 moves (its kernel: "virtio_net ... is not a
# head!", a general protection fault), in none of 140 paused moves.
_TCG = "QEMU loses memory writes of a TCG guest now and then when it moves live"


def live_safe(domain_type: str) -> bool:
    """Whether a guest of this domain type may move live. Not under TCG (type
    qemu): QEMU tracks the guest's writes to memory itself, in software, while
    the guest's CPU threads run; the soak's broken guests had stale pages, most
    likely writes that tracking missed (_TCG). KVM tracks them in the kernel."""
    return domain_type != "qemu"


def _landed(attrs: Mapping[str, Resolved], vm: VM, dest: object, live: bool, where: str) -> str:
    """What a move that put the VM on `where` says. Its autostart flag there is
    set as the VM's attribute says; failing that is said too, never undone:
    the VM runs there, and the database must say so."""
    said = f"{'live-' if live else ''}migrated to {where}"
    try:
        moved = Guest.lookup(dest, vm.host.name)
        moved.set_autostart(wellknown.flag(attrs, "kvm_autostart", vm.host.name))
    except CairnError as exc:
        said += f" (its autostart flag is not set there: {exc})"
    return said


def _failed(exc: CairnError, side: Side, vm: str, old: str, new: str) -> CairnError:
    if side is Side.OLD:
        return exc
    if side is Side.BOTH:
        return CairnError(
            f"{exc}; {vm} now runs on both {old} and {new}: stop the copy that should not"
            f" run (virsh destroy {vm} on it); the database still says {old}"
        )
    return CairnError(
        f"{exc}; {vm} runs on neither {old} nor {new} now: start it again"
        f" (cairn start host vm {vm})"
    )


def migrate_downtime(attrs: Mapping[str, Resolved], host: str) -> int:
    """kvm_migrate_downtime of the VM (ms): its default when unset; a value out of
    range is an error naming the attribute and the scope it came from."""
    value = wellknown.text(attrs, "kvm_migrate_downtime")
    knob = wellknown.lookup("kvm_migrate_downtime")
    assert knob is not None and knob.default is not None
    what = wellknown.what("kvm_migrate_downtime", host, attrs.get("kvm_migrate_downtime"))
    return wellknown.integer("kvm_migrate_downtime", knob.default if value is None else value, what)
