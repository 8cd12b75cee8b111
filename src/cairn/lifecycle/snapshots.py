"""Snapshots of VMs: the rules (every disk qcow2, names, the VM defined on its
container) and the allocation a revert must keep right.

A revert that turns a running VM off is a stop: plugin_disallocate runs
(reason "reverted") and its libvirt autostart flag is cleared. A revert that
would start a VM that is off is refused (start it first, so that allocate
runs): the database never says a VM holds nothing while it runs.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from cairn.db.models import VM
from cairn.errors import CairnError, Conflict, NotFound
from cairn.hypervisor import snapshots
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import DomainNotFound
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE
from cairn.lifecycle.hooks import Hooks
from cairn.lifecycle.targets import guest_of

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ACTIVE_WORDS = frozenset({"running", "paused", "blocked", "pmsuspended"})


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise CairnError(
            f"snapshot name {name!r}: use up to 64 letters, digits and . _ -"
            " (first a letter or digit)"
        )
    return name


def _guest(session: Session, vm: VM, conns: Connections) -> Guest:
    bad = [f"{d.device} is {'file (raw)' if d.kind == 'file' else d.kind}"
           for d in vm.disks if d.kind != "qcow2"]  # fmt: skip
    if bad:
        raise CairnError(
            f"snapshots of {vm.host.name} need every disk in qcow2 format, but {', '.join(bad)}"
        )
    if not vm.disks:
        raise CairnError(f"{vm.host.name} has no disk to snapshot")
    try:
        return guest_of(session, vm, conns)
    except DomainNotFound:
        raise CairnError(
            f"{vm.host.name} is not defined on {vm.container.name} yet: start it once"
            f" (cairn start host vm {vm.host.name})"
        ) from None


def take(session: Session, vm: VM, conns: Connections, name: str, description: str) -> str:
    guest = _guest(session, vm, conns)
    if snapshots.find(guest, check_name(name)) is not None:
        raise Conflict(f"{vm.host.name} has a snapshot {name} already; choose another name")
    state = guest.state()
    snapshots.take(guest, name, description)
    return f"taken ({state}{', with memory' if state in ACTIVE else ''})"


def listed(session: Session, vm: VM, conns: Connections) -> list[snapshots.Snapshot]:
    return snapshots.listed(_guest(session, vm, conns))


def _existing(guest: Guest, vm: VM, name: str) -> snapshots.Snapshot:
    found = snapshots.find(guest, name)
    if found is None:
        raise NotFound(
            f"{vm.host.name} has no snapshot {name} (see: cairn list host vm snapshot"
            f" {vm.host.name})"
        )
    return found


def revert(session: Session, vm: VM, conns: Connections, hooks: Hooks, name: str) -> str:
    guest = _guest(session, vm, conns)
    snap = _existing(guest, vm, name)
    was_active = guest.state() in ACTIVE
    if snap.state in _ACTIVE_WORDS and not was_active:
        raise CairnError(
            f"snapshot {name} of {vm.host.name} was taken while it ran, and reverting would"
            f" start it: start the VM first (cairn start host vm {vm.host.name}), then revert"
        )
    snapshots.revert(guest, name)
    if was_active and guest.state() not in ACTIVE:
        guest.set_autostart(False)
        try:
            ran = hooks.release(session, vm, "reverted")
        except CairnError as exc:
            raise CairnError(f"reverted, and off now, but disallocate failed: {exc}") from exc
        return "reverted (off now" + (", released)" if ran else ")")
    return f"reverted ({guest.state()})"


def remove(session: Session, vm: VM, conns: Connections, name: str) -> str:
    guest = _guest(session, vm, conns)
    _existing(guest, vm, name)
    snapshots.delete(guest, name)
    return "removed"
