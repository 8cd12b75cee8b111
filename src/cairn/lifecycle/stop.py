"""`stop host vm`: poweroff / shutdown / reset / reboot, then disallocate once.

A VM turned off here has its libvirt autostart flag cleared, so it does not
come back when its container restarts. After a VM is off, plugin_disallocate
runs exactly once (the VM's allocated flag says whether it still holds
anything). terminate=true only runs the disallocate step, for a VM known to
be off. reset and reboot keep the VM running and allocate nothing.

A VM whose reboot ends its domain (on_reboot destroy: one set to install,
cairn.designer) is restarted cold instead, by both: libvirt's reset and
reboot would end it, and an installer that obeyed the ACPI reboot would look
like an install that ended by itself (the watcher would set its boot to os and
release it). So it is powered off and started again from its definition, and
installs again, as a Rocks node rebooted mid-install did; it stays allocated.
Its row is held meanwhile (until the command commits), so the watcher's
release of that stop waits, then finds it running again: old news. A VM that
does not start again is off, and is released as a poweroff would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.chunks import pieces
from cairn.db.models import VM
from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import DomainNotFound, LeftOff
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE
from cairn.inventory.containers import container_uris
from cairn.lifecycle.hooks import Hooks
from cairn.lifecycle.runner import Outcome, Progress, StepError, no_progress, run_grouped
from cairn.lifecycle.targets import guest_state

ACTIONS = ("poweroff", "shutdown", "reset", "reboot")
TURNS_OFF = frozenset({"poweroff", "shutdown"})
RESTARTED = "restarted"
INSTALLS_AGAIN = "it is set to install, so it installs again"
REBOOT_ENDS = "its reboot would end it (on_reboot destroy), so it was powered off and started"


@dataclass(frozen=True)
class Stop:
    vm_id: int
    name: str
    container: str
    uri: str
    action: str
    timeout: float
    installing: bool = False


def stop(
    session: Session,
    vms: Sequence[VM],
    conns: Connections,
    hooks: Hooks,
    *,
    action: str = "poweroff",
    terminate: bool = False,
    timeout: float = 120.0,
    parallel: int | None = None,
    progress: Progress = no_progress,
) -> list[Outcome]:
    uris = container_uris(session, [vm.container for vm in vms])
    if terminate:
        return [_terminate(session, vm, conns, uris[vm.container_id], hooks) for vm in vms]
    if action not in TURNS_OFF:
        _hold(session, vms)
    jobs = [
        Stop(
            vm.id,
            vm.host.name,
            vm.container.name,
            uris[vm.container_id],
            action,
            timeout,
            vm.host.boot == "install",
        )
        for vm in vms
    ]
    done = run_grouped(
        jobs,
        lambda j: j.uri,
        lambda j: _act(j, conns),
        parallel=parallel,
        progress=progress,
        label=lambda j: j.name,
    )
    by_id = {vm.id: vm for vm in vms}
    out = []
    for d in done:
        job = d.job
        if d.error is not None:
            detail = str(d.error)
            if isinstance(d.error, StepError) and isinstance(d.error.cause, LeftOff):
                detail += "; " + _disallocate(session, hooks, by_id[job.vm_id], "stopped")[0]
            out.append(Outcome(job.name, job.container, "failed", detail, True))
            continue
        detail, failed = "", False
        if action in TURNS_OFF:
            detail, failed = _disallocate(session, hooks, by_id[job.vm_id], "stopped")
        elif d.result == RESTARTED:
            detail = INSTALLS_AGAIN if job.installing else REBOOT_ENDS
        out.append(Outcome(job.name, job.container, d.result or action, detail, failed))
    return out


def _act(job: Stop, conns: Connections) -> str:
    try:
        guest = Guest.lookup(conns.get(job.uri), job.name)
    except DomainNotFound:
        if job.action in TURNS_OFF:
            return "not running"
        raise
    try:
        if job.action in TURNS_OFF and guest.remove_managed_save():
            guest.set_autostart(False)
            return "saved image discarded"
        if job.action == "poweroff":
            changed = guest.poweroff()
        elif job.action == "shutdown":
            changed = guest.shutdown(job.timeout)
        elif guest.reboot_ends():
            return _restart(guest)
        elif job.action == "reset":
            guest.reset()
            return "reset"
        else:
            guest.reboot()
            return "rebooted"
        guest.set_autostart(False)
    except CairnError as exc:
        raise StepError(job.action, exc) from exc
    return "stopped" if changed else "not running"


def _restart(guest: Guest) -> str:
    try:
        guest.restart()
    except LeftOff:
        # Off, and released by the caller: like a VM powered off, it must not
        # come back when its container restarts. The LeftOff says what matters.
        with contextlib.suppress(CairnError):
            guest.set_autostart(False)
        raise
    return RESTARTED


def _hold(session: Session, vms: Sequence[VM]) -> None:
    """Lock the rows of `vms` until the command commits (PostgreSQL, MariaDB; a
    SQLite writer holds the whole database already): the watcher's release of a
    restarted VM's stop waits for them, and then finds it running."""
    ids = sorted(vm.id for vm in vms)
    for piece in pieces(ids):
        session.execute(
            select(VM.id).where(VM.id.in_(piece)).order_by(VM.id).with_for_update()
        ).all()


def _terminate(session: Session, vm: VM, conns: Connections, uri: str, hooks: Hooks) -> Outcome:
    try:
        state = guest_state(conns, uri, vm.host.name)
    except CairnError:
        state = None  # unreachable: the administrator says it is off
    if state in ACTIVE:
        return Outcome(
            vm.host.name,
            vm.container.name,
            "failed",
            f"it is {state}: stop it first (action=poweroff or shutdown)",
            True,
        )
    detail, failed = _disallocate(session, hooks, vm, "terminated")
    return Outcome(
        vm.host.name, vm.container.name, "failed" if failed else "terminated", detail, failed
    )


def _disallocate(session: Session, hooks: Hooks, vm: VM, reason: str) -> tuple[str, bool]:
    """Run disallocate in a savepoint: (what to report, whether it failed)."""
    try:
        ran = hooks.release(session, vm, reason)
    except CairnError as exc:
        return (
            f"disallocate failed: {exc} (retry: cairn stop host vm {vm.host.name} terminate=yes)",
            True,
        )
    return ("released" if ran else "nothing allocated"), False
