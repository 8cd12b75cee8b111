"""Adding one disk to a VM definition and taking one away (database only).

What happens on the container (volumes, hot-plug) is `lifecycle.disks`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, VMDisk
from cairn.errors import Conflict, NotFound
from cairn.vms import disks as disklib


def check_path_free(session: Session, path: str, vm: VM) -> None:
    """Refuse a disk path that a VM's definition uses already (two VMs on one disk
    corrupt it; one VM twice on it, too)."""
    owner = session.execute(select(VMDisk).where(VMDisk.path == path).limit(1)).scalar_one_or_none()
    if owner is not None:
        who = "this VM" if owner.vm_id == vm.id else f"VM {owner.vm.host.name}"
        raise Conflict(f"disk {path} is used by {who} already; give another path")


def add_disk(session: Session, vm: VM, spec: str, size_gb: int) -> VMDisk:
    """A new last disk for `vm`; its device name is the next free one of its bus."""
    parsed = disklib.parse(spec)
    check_path_free(session, parsed.path, vm)
    taken = [disklib.DiskSpec(d.kind, d.path, d.device, d.bus) for d in vm.disks]
    made = disklib.assign_devices([*taken, parsed])[-1]
    disk = VMDisk(
        position=max((d.position for d in vm.disks), default=-1) + 1,
        kind=made.kind,
        path=made.path,
        device=made.device,
        bus=made.bus,
        size_gb=size_gb,
    )
    vm.disks.append(disk)
    session.flush()
    return disk


def find_disk(vm: VM, word: str) -> VMDisk:
    """The VM's disk with device name or path `word`."""
    for d in vm.disks:
        if word in (d.device, d.path):
            return d
    have = ", ".join(d.device for d in vm.disks) or "none"
    raise NotFound(f"{vm.host.name} has no disk {word!r} (its disks: {have})")


def remove_disk(session: Session, vm: VM, disk: VMDisk) -> None:
    vm.disks.remove(disk)
    for i, d in enumerate(sorted(vm.disks, key=lambda d: d.position)):
        d.position = i
    session.flush()
