"""`start host vm`: allocate -> preboot -> disks -> define -> launch -> autostart.

Phase 1 (this thread, database, batched: a fixed number of queries for all the
VMs): one domain listing per container refuses VMs that run; plugin_allocate
runs per VM in a savepoint; the XML of all VMs is built and checked at once;
plugin_preboot runs per VM with the database read-only.
Phase 2 (threads, one per container): disks, define, launch, autostart flag.
Phase 3 (this thread): a VM that failed after allocate gets plugin_disallocate,
so nothing allocated leaks; the error names the VM, the step and the cause.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.db.models import VM
from cairn.errors import CairnError
from cairn.hypervisor.capabilities import domain_type
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.listing import list_states
from cairn.hypervisor.states import ACTIVE, State
from cairn.inventory import reach
from cairn.inventory.containers import check_containers, container_uris
from cairn.inventory.maintenance import check_in_service
from cairn.lifecycle.disks import fit_volume
from cairn.lifecycle.hooks import Hooks
from cairn.lifecycle.runner import Outcome, Progress, StepError, no_progress, run_grouped
from cairn.vms import config
from cairn.vms.disks import volumes
from cairn.vms.facts import VMFacts


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
    parallel: int | None = None,
    progress: Progress = no_progress,
    notes: list[str] | None = None,
) -> list[Outcome]:
    failed: dict[int, str] = {}
    resumes, allocated = _allocate(session, vms, conns, hooks, failed)
    launches = resumes + _prepare(session, allocated, conns, hooks, failed, notes)
    autostart = _autostart(session, [vm for vm in vms if vm.id not in failed])
    launches = [_with_autostart(job, autostart.get(job.vm_id, False)) for job in launches]
    done = run_grouped(
        launches,
        lambda j: j.uri,
        lambda j: _launch(j, conns),
        parallel=parallel,
        progress=progress,
        label=lambda j: j.name,
    )
    results = {d.job.vm_id: d for d in done}
    by_id = {vm.id: vm for vm in vms}
    out = []
    for vm in vms:
        if vm.id in failed:
            out.append(Outcome(vm.host.name, vm.container.name, "failed", failed[vm.id], True))
            continue
        d = results[vm.id]
        if d.error is None:
            out.append(Outcome(d.job.name, d.job.container, d.result or "started"))
        else:
            detail = str(d.error) + _release(session, hooks, by_id[vm.id])
            out.append(Outcome(d.job.name, d.job.container, "failed", detail, True))
    return out


def _allocate(
    session: Session, vms: Sequence[VM], conns: Connections, hooks: Hooks, failed: dict[int, str]
) -> tuple[list[Launch], list[VM]]:
    """Refuse running VMs, resume saved ones, run plugin_allocate on the rest."""
    uris = container_uris(session, [vm.container for vm in vms])
    listings: dict[str, dict[str, State] | CairnError] = {}
    for uri in sorted(set(uris.values())):
        try:
            listings[uri] = list_states(conns.get(uri))
        except CairnError as exc:
            listings[uri] = exc
    resumes, candidates = [], []
    before = {vm.id: uris[vm.container_id] for vm in vms}
    closed = check_in_service(session, [vm.container for vm in vms])
    for vm in vms:
        uri = uris[vm.container_id]
        listing = listings[uri]
        if isinstance(listing, CairnError):
            failed[vm.id] = str(listing)
            continue
        state = listing.get(vm.host.name, State.UNDEFINED)
        if state in ACTIVE:
            failed[vm.id] = (
                f"{vm.host.name} is {state} on {vm.container.name}: stop it first"
                f" (cairn stop host vm {vm.host.name}), or use action=reboot"
            )
        elif state is State.SAVED:
            if vm.container_id in closed:  # its saved memory is there: it cannot go elsewhere
                failed[vm.id] = f"{vm.host.name} is saved on it: {closed[vm.container_id]}"
                continue
            resumes.append(Launch(vm.id, vm.host.name, vm.container.name, uri, None))
        else:
            candidates.append(vm)
    allocated = _allocate_all(session, candidates, hooks, failed)
    session.flush()
    now = container_uris(session, [vm.container for vm in allocated])
    for vm in allocated:
        if now[vm.container_id] != before[vm.id] and vm.host.name in listing_of(
            listings, before[vm.id]
        ):
            _forget(conns, before[vm.id], vm.host.name)  # allocate moved it: no stale copy
    return resumes, allocated


def listing_of(listings: dict[str, dict[str, State] | CairnError], uri: str) -> dict[str, State]:
    found = listings.get(uri)
    return found if isinstance(found, dict) else {}


def _forget(conns: Connections, uri: str, name: str) -> None:
    # Best effort: at worst the old container keeps a stopped definition.
    with contextlib.suppress(CairnError):
        Guest.lookup(conns.get(uri), name).undefine()


def _allocate_all(
    session: Session, vms: list[VM], hooks: Hooks, failed: dict[int, str]
) -> list[VM]:
    """plugin_allocate on each VM (in a savepoint of its own), the VMs it allocated.

    Without plugins, a few statements for all the VMs, not a few per VM: the
    rows still marked allocated are locked and read again in one statement,
    and the flag is set in one UPDATE."""
    _lock(session, [vm for vm in vms if vm.allocated])
    out, flagged = [], []
    for vm in vms:
        if vm.allocated and hooks.disallocate:
            # It went off without cairn (and the watcher has not released it
            # yet): release the old allocation before taking a new one, so
            # nothing leaks. (Without disallocate plugins there is nothing to
            # release: it keeps its allocation.)
            released = _release(session, hooks, vm, "stopped-by-itself")
            if "failed" in released:
                failed[vm.id] = f"disallocate of its earlier allocation{released}"
                continue
        if not hooks.allocate:
            flagged.append(vm)  # nothing to roll back: no plugin runs
        else:
            savepoint = session.begin_nested()
            try:
                hooks.run_allocate(session, vm)
            except CairnError as exc:
                savepoint.rollback()
                failed[vm.id] = str(StepError("allocate", exc))
                continue
            savepoint.commit()
        out.append(vm)
    _flag_allocated(session, [vm for vm in flagged if not vm.allocated])
    return out


_IDS_AT_ONCE = 500  # bound values in one IN list (SQLite caps them near 1,000)


def _lock(session: Session, vms: list[VM]) -> None:
    """Locks the rows of `vms` (PostgreSQL, MariaDB; a SQLite writer holds the
    whole database) and reads their flags again, in one statement per 500."""
    by_id = {vm.id: vm for vm in vms}
    ids = list(by_id)
    for at in range(0, len(ids), _IDS_AT_ONCE):
        some = ids[at : at + _IDS_AT_ONCE]
        query = select(VM.id, VM.allocated).where(VM.id.in_(some)).with_for_update()
        for vm_id, allocated in session.execute(query):
            set_committed_value(by_id[vm_id], "allocated", allocated)


def _flag_allocated(session: Session, vms: list[VM]) -> None:
    """Marks `vms` allocated in one UPDATE per 500, the mapped rows told so."""
    session.flush()
    ids = [vm.id for vm in vms]
    for at in range(0, len(ids), _IDS_AT_ONCE):
        some = ids[at : at + _IDS_AT_ONCE]
        session.execute(
            update(VM).where(VM.id.in_(some)).values(allocated=True),
            execution_options={"synchronize_session": False},
        )
    for vm in vms:
        set_committed_value(vm, "allocated", True)


def _prepare(
    session: Session,
    vms: list[VM],
    conns: Connections,
    hooks: Hooks,
    failed: dict[int, str],
    notes: list[str] | None,
) -> list[Launch]:
    """The XML of every allocated VM (on the container allocate chose), then preboot."""
    session.flush()
    uris = container_uris(session, [vm.container for vm in vms])
    kinds: dict[int, str] = {}
    # Allocate may have moved a VM: its container, as it is now, must hold it.
    refused = check_containers(session, [vm.container for vm in vms])
    refused = check_in_service(session, [vm.container for vm in vms]) | refused
    unreached = reach.check_vms_on(
        session, [(vm, vm.container) for vm in vms if vm.container_id not in refused]
    )
    for vm in list(vms):
        try:
            if vm.container_id in refused:
                raise refused[vm.container_id]
            if vm.id in unreached:
                raise unreached[vm.id]
            kinds[vm.id] = domain_type(conns.get(uris[vm.container_id]))
        except CairnError as exc:
            failed[vm.id] = f"preboot: {exc}{_release(session, hooks, vm)}"
    ready = [vm for vm in vms if vm.id in kinds]
    errors: dict[int, CairnError] = {}
    facts = [VMFacts.of(vm) for vm in ready]
    xml = config.build(session, facts, domain_type=kinds, notes=notes, errors=errors)
    launches = []
    for vm in ready:
        try:
            if vm.id in errors:
                raise errors[vm.id]
            text = hooks.run_preboot(session, vm, xml[vm.id]) if hooks.preboot else xml[vm.id]
        except CairnError as exc:
            failed[vm.id] = f"preboot: {exc}{_release(session, hooks, vm)}"
            continue
        disks = volumes(vm.disks)
        launches.append(
            Launch(vm.id, vm.host.name, vm.container.name, uris[vm.container_id], text, disks)
        )
    return launches


def _autostart(session: Session, vms: Sequence[VM]) -> dict[int, bool]:
    resolved = resolve(session, [vm.host for vm in vms])
    out = {}
    for vm in vms:
        out[vm.id] = wellknown.flag(resolved[vm.host_id], "kvm_autostart", vm.host.name)
    return out


def _with_autostart(job: Launch, autostart: bool) -> Launch:
    return Launch(job.vm_id, job.name, job.container, job.uri, job.xml, job.disks, autostart)


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
            fit_volume(conn, path, size, fmt)  # grown if defined bigger since
        step = "define"
        guest = Guest.define(conn, job.xml)
        step = "launch"
        guest.launch()
        step = "autostart"
        guest.set_autostart(job.autostart)
    except CairnError as exc:
        raise StepError(step, exc) from exc
    return "started"


def _release(session: Session, hooks: Hooks, vm: VM, reason: str = "start-failed") -> str:
    """Disallocate after a failed start; the text to add to the error."""
    try:
        ran = hooks.release(session, vm, reason)
    except CairnError as exc:
        return f"; disallocate also failed: {exc}"
    return "; released (disallocate ran)" if ran else ""
