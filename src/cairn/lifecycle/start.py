"""`start host vm`: allocate -> preboot -> disks -> define -> launch -> autostart.

Phase 1 (this thread, database): refuse VMs that run, run plugin_allocate in a
savepoint, build and check the XML, run plugin_preboot read-only.
Phase 2 (threads, one per container): disks, define, launch, autostart flag.
Phase 3 (this thread): a VM that failed after allocate gets plugin_disallocate,
so nothing allocated leaks; the error names the VM, the step and the cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cairn.db.models import VM
from cairn.errors import CairnError
from cairn.hypervisor.capabilities import domain_type
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE, State
from cairn.hypervisor.storage import ensure_volume
from cairn.lifecycle.hooks import Hooks
from cairn.lifecycle.runner import Outcome, Progress, StepError, no_progress, run_grouped
from cairn.lifecycle.targets import container_uris, guest_state, resolved_flag
from cairn.vms import config
from cairn.vms.define import check_container


@dataclass(frozen=True)
class Launch:
    """Everything a worker needs to start one VM, without the database."""

    vm_id: int
    name: str
    container: str
    uri: str
    xml: str | None  # None: resume from the managed-save image
    disks: tuple[tuple[str, int, str], ...] = ()  # (path, GiB, raw|qcow2)
    autostart: bool = False


def start(
    session: Session,
    vms: Sequence[VM],
    conns: Connections,
    hooks: Hooks,
    *,
    parallel: int = 8,
    progress: Progress = no_progress,
    notes: list[str] | None = None,
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    launches: list[Launch] = []
    for vm in vms:
        try:
            launches.append(_prepare(session, vm, conns, hooks, notes))
        except CairnError as exc:
            outcomes[vm.id] = Outcome(vm.host.name, vm.container.name, "failed", str(exc), True)
    done = run_grouped(
        launches,
        lambda j: j.uri,
        lambda j: _launch(j, conns),
        parallel=parallel,
        progress=progress,
        label=lambda j: j.name,
    )
    by_id = {vm.id: vm for vm in vms}
    for d in done:
        job = d.job
        if d.error is None:
            outcomes[job.vm_id] = Outcome(job.name, job.container, d.result or "started")
            continue
        detail = str(d.error)
        detail += _release(session, hooks, by_id[job.vm_id])
        outcomes[job.vm_id] = Outcome(job.name, job.container, "failed", detail, True)
    return [outcomes[vm.id] for vm in vms]


def _prepare(
    session: Session, vm: VM, conns: Connections, hooks: Hooks, notes: list[str] | None
) -> Launch:
    uri = container_uris(session, [vm.container])[vm.container_id]
    state = guest_state(conns, uri, vm.host.name)
    if state in ACTIVE:
        raise CairnError(
            f"{vm.host.name} is {state} on {vm.container.name}: stop it first"
            f" (cairn stop host vm {vm.host.name}), or use action=reboot"
        )
    if state is State.SAVED:
        autostart = resolved_flag(session, vm.host, "kvm_autostart")
        return Launch(vm.id, vm.host.name, vm.container.name, uri, None, autostart=autostart)
    savepoint = session.begin_nested()
    try:
        hooks.run_allocate(session, vm)
    except CairnError as exc:
        savepoint.rollback()
        raise StepError("allocate", exc) from exc
    savepoint.commit()
    try:
        check_container(session, vm.container)
        uri = container_uris(session, [vm.container])[vm.container_id]
        kind = domain_type(conns.get(uri))
        xml = config.build(session, [vm], domain_type=kind, notes=notes)[vm.id]
        xml = hooks.run_preboot(session, vm, xml)
    except CairnError as exc:
        raise CairnError(f"preboot: {exc}{_release(session, hooks, vm)}") from exc
    disks = tuple(
        (d.path, d.size_gb, "qcow2" if d.kind == "qcow2" else "raw")
        for d in vm.disks
        if d.kind != "phy"
    )
    autostart = resolved_flag(session, vm.host, "kvm_autostart")
    return Launch(vm.id, vm.host.name, vm.container.name, uri, xml, disks, autostart)


def _launch(job: Launch, conns: Connections) -> str:
    conn = conns.get(job.uri)
    if job.xml is None:
        guest = Guest.lookup(conn, job.name)
        guest.launch()
        if guest.state() is State.PAUSED:  # it was paused when saved
            guest.resume()
        guest.set_autostart(job.autostart)
        return "resumed from its saved image"
    step = "disks"
    try:
        for path, size, fmt in job.disks:
            ensure_volume(conn, path, size, fmt)
        step = "define"
        guest = Guest.define(conn, job.xml)
        step = "launch"
        guest.launch()
        step = "autostart"
        guest.set_autostart(job.autostart)
    except CairnError as exc:
        raise StepError(step, exc) from exc
    return "started"


def _release(session: Session, hooks: Hooks, vm: VM) -> str:
    """Disallocate after a failed start; the text to add to the error."""
    savepoint = session.begin_nested()
    try:
        ran = hooks.run_disallocate(session, vm, "start-failed")
    except CairnError as exc:
        savepoint.rollback()
        return f"; disallocate also failed: {exc}"
    savepoint.commit()
    return "; released (disallocate ran)" if ran else ""
