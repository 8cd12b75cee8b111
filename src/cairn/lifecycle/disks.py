"""Disks that follow their definition on the container: grown when their
defined size grows, hot-plugged when added to or removed from a running VM,
and their real sizes, for `list host vm showdisks=yes status=yes`.

Shrinking is refused (the data at a disk's end would be lost), and so is any
size change of a `phy` disk (its size is the device's). A container that
cannot be reached changes nothing there; `start host vm` grows a disk that is
smaller than defined when it next starts the VM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from cairn.db.models import VM, VMDisk
from cairn.errors import CairnError
from cairn.hypervisor import storage
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import ContainerUnreachable, DomainNotFound, StorageError
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE
from cairn.hypervisor.waiting import wait_until
from cairn.inventory.containers import container_uris
from cairn.vms.config import disk_xml
from cairn.vms.disks import volumes

GIB = storage.GIB
RELEASE_WAIT = 10.0  # seconds a guest gets to let go of a hot-unplugged disk


def _running_guest(conns: Connections, uri: str, name: str) -> Guest | None:
    try:
        guest = Guest.lookup(conns.get(uri), name)
    except DomainNotFound:
        return None
    return guest if guest.state() in ACTIVE else None


def follow_sizes(
    session: Session, vm: VM, before: Mapping[str, int], conns: Connections, notes: list[str]
) -> list[str]:
    """Grow the VM's volumes to their defined sizes; what was grown, as words.

    `before` is {path: defined GiB} from before the change, to refuse resizing
    a phy disk even where nothing can be asked of the device.
    """
    for d in vm.disks:
        if d.kind == "phy" and d.path in before and before[d.path] != d.size_gb:
            raise CairnError(
                f"disk {d.path} of {vm.host.name} is a phy device: its size is the device's"
                " own, cairn cannot resize it"
            )
    uri = container_uris(session, [vm.container])[vm.container_id]
    try:
        conn = conns.get(uri)
        guest = _running_guest(conns, uri, vm.host.name)
    except ContainerUnreachable as exc:
        notes.append(f"{exc}; {vm.host.name}'s disks will be grown when it next starts")
        return []
    live = guest.disk_devices() if guest else {}
    grown = []
    for path, size, _fmt in volumes(vm.disks):
        now = storage.capacity(conn, path)
        if now is None:
            continue  # made at the next start
        if now > size * GIB:
            raise StorageError(storage.shrink_refused(path, now, size))
        if now == size * GIB:
            continue
        device = next((dev for dev, src in live.items() if src == path), None)
        if guest is not None and device is not None:
            guest.block_resize(device, size * GIB)
            grown.append(f"{device} grown to {size}G (live)")
        else:
            storage.grow_volume(conn, path, size)
            grown.append(f"{path} grown to {size}G")
    return grown


def fit_volume(conn: Any, path: str, size_gib: int, fmt: str) -> None:
    """At start: make the volume, or grow it to its defined size (never shrink)."""
    if storage.ensure_volume(conn, path, size_gib, fmt):
        return
    now = storage.capacity(conn, path)
    if now is not None and now < size_gib * GIB:
        storage.grow_volume(conn, path, size_gib)


def plug(session: Session, vm: VM, disk: VMDisk, conns: Connections) -> str:
    """Give a running VM its new disk now (volume made, hot-plugged); else at next start."""
    uri = container_uris(session, [vm.container])[vm.container_id]
    guest = _running_guest(conns, uri, vm.host.name)
    if guest is None:
        return "added (the VM gets it when it next starts)"
    for path, size, fmt in volumes([disk]):
        storage.ensure_volume(conns.get(uri), path, size, fmt)
    guest.attach_disk(disk_xml(disk), live=True)
    return "added and hot-plugged"


def unplug(session: Session, vm: VM, disk: VMDisk, conns: Connections, *, delete: bool) -> str:
    """Take a disk from the VM (from the running guest too); delete its volume if asked."""
    uri = container_uris(session, [vm.container])[vm.container_id]
    guest = _running_guest(conns, uri, vm.host.name)
    done = "removed"
    if guest is not None:
        guest.detach_disk(disk_xml(disk), live=True)
        if not wait_until(lambda: disk.device not in guest.disk_devices(), RELEASE_WAIT):
            raise CairnError(
                f"{vm.host.name} did not release {disk.device} within {RELEASE_WAIT:g} s (its"
                " system must answer the hot-unplug); stop the VM and remove the disk then"
            )
        done = "removed and unplugged"
    if delete:
        if disk.kind == "phy":
            raise CairnError(f"disk {disk.path} is a phy device: cairn never deletes devices")
        volumes([disk])  # within reach, or refused before anything is deleted
        storage.delete_volume(conns.get(uri), disk.path)
        done += ", volume deleted"
    return done


def real_sizes(session: Session, vms: Sequence[VM]) -> dict[int, dict[str, int | str | None]]:
    """{VM id: {disk path: real size in bytes, None if no volume, or "unreachable"}}."""
    uris = container_uris(session, [vm.container for vm in vms])
    out: dict[int, dict[str, int | str | None]] = {}
    lost: set[str] = set()
    with Connections() as conns:
        for vm in vms:
            uri = uris[vm.container_id]
            sizes: dict[str, int | str | None] = {}
            try:
                found = volumes(vm.disks)
            except CairnError:  # a disk out of reach (cairn.vms.reach) is not looked at
                out[vm.id] = {d.path: "unknown" for d in vm.disks if d.kind != "phy"}
                continue
            for path, _size, _fmt in found:
                try:
                    if uri in lost:
                        raise ContainerUnreachable(uri)
                    sizes[path] = storage.capacity(conns.get(uri), path)
                except ContainerUnreachable:
                    lost.add(uri)
                    sizes[path] = "unreachable"
                except CairnError:
                    sizes[path] = "unknown"
            out[vm.id] = sizes
    return out
