"""Storage every container reaches, and the VMs that may be restarted elsewhere (kvm_ha).

A VM marked kvm_ha is restarted on another container when its own is dead
(cairn.lifecycle.failover), so all it keeps on disk must be where the other
containers see the same bytes: NFS, a cluster file system, a SAN LUN. The
administrator names those places in the config file (cairn.config):

    vm_shared_dirs = ["/var/lib/libvirt/shared", "/dev/disk/by-id/"]

A disk qualifies when its path lies in one of them: file and qcow2 images in a
shared directory, phy disks whose device path is listed (an entry ending in /
allows what lies under it, for LUNs that every container names alike). A
CDROM image counts too. Nothing is shared unless listed: local disks
(/var/lib/libvirt/images, /state/partition1) never qualify.

What belongs here: the list and the check, when kvm_ha is set and again before
a restart; not the restart itself.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner
from cairn.db.models import VM, Host
from cairn.errors import CairnError

SHARED_KEY = "vm_shared_dirs"
QUALIFY = (
    "file and qcow2 disks in a directory of vm_shared_dirs (NFS, a cluster file system),"
    " phy disks whose device is listed there (a SAN LUN)"
)


def shared_dirs() -> tuple[str, ...]:
    """The places the config file says every container reaches alike (none by default)."""
    from cairn.config import config, config_path

    given = config().get(SHARED_KEY)
    if given is None:
        return ()
    if not isinstance(given, list) or not all(
        isinstance(p, str)
        and p.startswith("/")
        and posixpath.normpath(p.rstrip("/") or "/") == (p.rstrip("/") or "/")
        for p in given
    ):
        raise CairnError(
            f"{SHARED_KEY} in {config_path()} must be a list of absolute, normalised paths,"
            ' such as ["/var/lib/libvirt/shared"]'
        )
    return tuple(given)


def _within(path: str, dirs: Iterable[str]) -> bool:
    return any(path == d.rstrip("/") or path.startswith(d.rstrip("/") + "/") for d in dirs)


def unshared(vm: VM, dirs: tuple[str, ...]) -> list[str]:
    """What of `vm` lies outside `dirs`: 'disk PATH (KIND)' and 'CDROM PATH' words."""
    out = [f"disk {d.path} ({d.kind})" for d in vm.disks if not _within(d.path, dirs)]
    if vm.cdrom and not _within(vm.cdrom, dirs):
        out.append(f"CDROM {vm.cdrom}")
    return out


def check_vm(vm: VM, dirs: tuple[str, ...] | None = None) -> None:
    """CairnError unless everything `vm` keeps on disk is on shared storage."""
    dirs = shared_dirs() if dirs is None else dirs
    local = unshared(vm, dirs)
    if local:
        from cairn.config import config_path

        where = ", ".join(dirs) if dirs else f"none in {config_path()}"
        raise CairnError(
            f"{vm.host.name} cannot have kvm_ha: {', '.join(local)} is not on storage the"
            f" other containers reach (vm_shared_dirs: {where}); what qualifies: {QUALIFY}"
        )


def check_owner(session: Session, owner: Owner) -> None:
    """After kvm_ha was stored for `owner`: CairnError if a VM it now resolves
    true for keeps a disk the other containers cannot reach."""
    query = select(VM).join(VM.host)
    if owner.scope is Scope.HOST:
        query = query.where(Host.id == owner.id)
    elif owner.scope is Scope.APPLIANCE:
        query = query.where(Host.appliance_id == owner.id)
    elif owner.scope is Scope.OS:
        query = query.where(Host.os_id == owner.id)
    session.flush()
    check_vms(session, session.execute(query).scalars().all())


def check_vms(session: Session, vms: Sequence[VM]) -> None:
    """CairnError if one of `vms` has kvm_ha and keeps a disk the others cannot
    reach (after its disks or CDROM changed, or kvm_ha was set)."""
    if not vms:
        return
    resolved = resolve(session, [vm.host for vm in vms])
    dirs = None
    for vm in vms:
        if wellknown.flag(resolved[vm.host_id], "kvm_ha", vm.host.name):
            dirs = shared_dirs() if dirs is None else dirs
            check_vm(vm, dirs)
