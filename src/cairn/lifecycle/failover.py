"""Restart elsewhere, only after fencing: what the watcher does with a dead container.

The watcher (cairn.lifecycle.watch) counts a container dead when libvirt there
has been unreachable for its kvm_ha_dead_after seconds. Then, for the VMs
allocated there whose kvm_ha is true:

1. fence: the site's watch/plugin_fence.py switches the container off out of
   band and must answer True. Without a fence plugin, or without a True,
   nothing is restarted (the container may be cut off from the frontend while
   its guests still write their disks: a second copy would corrupt them); the
   administrator is told in the log and in the container's attribute
   kvm_ha_status, shown by `list host vm status=yes`.
2. once fenced, every VM allocated there is off: plugin_disallocate runs once
   for that placement (reason "fenced (...)"), non-kvm_ha VMs included.
3. each kvm_ha VM whose storage the others reach (cairn.vms.shared) is placed
   on the answering container with the most free memory (cairn.vms.placement)
   and started by `lifecycle.start`: plugin_allocate (which may place it
   elsewhere), preboot, define, launch, as `start host vm` does.

Each VM is placed in a transaction of its own, committed before it is
started, so that a restart is never repeated: the VM is then recorded on its
new container, and the dead one has nothing left to restart. The placed VMs
then start together, containers in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.escape import unescape
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner
from cairn.attrs.store import put as put_attr
from cairn.attrs.store import remove as remove_attr
from cairn.db.models import VM, Host, HostAttr
from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.inventory.containers import container_uris
from cairn.lifecycle.hooks import Hooks, release_once
from cairn.lifecycle.start import start
from cairn.vms import placement, shared
from cairn.vms.define import change

log = logging.getLogger("cairn.watch")
STATUS = "kvm_ha_status"
Work = Callable[[], AbstractContextManager[Session]]


@dataclass
class Failover:
    """What one attempt did; `done` False: fencing failed, try again later."""

    done: bool
    status: str = ""
    restarted: list[str] = field(default_factory=list)  # VM names, now running elsewhere
    moved: list[str] = field(default_factory=list)  # VM names placed on another container


def dead_after(session: Session, containers: Collection[Host]) -> dict[int, float]:
    """{container id: seconds unreachable before it counts as dead}."""
    resolved = resolve(session, list(containers))
    knob = wellknown.lookup("kvm_ha_dead_after")
    assert knob is not None and knob.default is not None
    out = {}
    for host in containers:
        found = resolved[host.id].get("kvm_ha_dead_after")
        value = unescape(found.value) if found else knob.default
        what = wellknown.what("kvm_ha_dead_after", host.name, found, "container")
        try:
            out[host.id] = float(wellknown.integer("kvm_ha_dead_after", value, what))
        except CairnError as exc:  # stored behind cairn's back: the watcher goes on
            log.error("%s; using %s s", exc, knob.default)
            out[host.id] = float(knob.default)
    return out


def _at(session: Session, uri: str) -> list[Host]:
    """The containers holding VMs that are reached at `uri`."""
    holders = session.execute(select(Host).where(Host.id.in_(select(VM.container_id)))).scalars()
    hosts = list(holders)
    uris = container_uris(session, hosts)
    return [h for h in hosts if uris[h.id] == uri]


def fail_over(
    work: Work, hooks: Hooks, uri: str, conns: Connections, dead: Collection[str]
) -> Failover:
    """Fence the dead container at `uri`, then restart its kvm_ha VMs elsewhere.

    `dead` are the URIs of every container counted dead (never chosen)."""
    with work() as session:
        containers = _at(session, uri)
        vms = list(
            session.execute(
                select(VM).where(
                    VM.container_id.in_([c.id for c in containers]), VM.allocated.is_(True)
                )
            ).scalars()
        )
        resolved = resolve(session, [*containers, *(vm.host for vm in vms)])
        ha = sorted(
            vm.host.name
            for vm in vms
            if wellknown.flag(resolved[vm.host_id], "kvm_ha", vm.host.name)
        )
        ids = {vm.host.name: vm.id for vm in vms}
        attrs = {
            c.name: {n: unescape(r.value) for n, r in resolved[c.id].items()} for c in containers
        }
    if not ha:
        return Failover(True)
    names = ", ".join(ha)
    with work() as session:
        others = _answering(session, conns, {uri, *dead})
    if not others:
        # A frontend cut off from every container sees them all dead; fencing
        # would only switch off guests that may be running, with nowhere to
        # restart them.
        status = (
            "dead, not fenced: no other container answers (is the frontend cut off?);"
            f" kvm_ha VMs not restarted: {names}"
        )
        log.error("container %s (%s) is %s", ", ".join(sorted(attrs)), uri, status)
        _set_status(work, attrs, status)
        return Failover(False, status)
    for container in sorted(attrs):
        fenced, said = hooks.run_fence(container, uri, attrs[container])
        if not fenced:
            status = f"dead, not fenced: {said}; kvm_ha VMs not restarted: {names}"
            log.error("container %s (%s) is %s", container, uri, status)
            _set_status(work, attrs, status)
            return Failover(bool(not hooks.fence), status)
        log.warning("container %s (%s) is dead and %s", container, uri, said)
    result = Failover(True)
    for name in sorted(ids):
        _release(work, hooks, ids[name], uri, f"fenced ({', '.join(sorted(attrs))} is off)")
    placed: dict[int, int] = {}  # container id -> MB placed there now (not yet allocated)
    result.moved = [n for n in ha if _place(work, ids[n], uri, conns, dead, placed)]
    result.restarted = _start(work, hooks, [ids[n] for n in result.moved], conns)
    failed = [n for n in ha if n not in result.restarted]
    result.status = f"dead, fenced; restarted elsewhere: {', '.join(result.restarted) or 'none'}"
    if failed:
        result.status += f"; not restarted: {', '.join(failed)} (see the watcher's log)"
    _set_status(work, attrs, result.status)
    return result


def _release(work: Work, hooks: Hooks, vm_id: int, uri: str, reason: str) -> None:
    with work() as session:
        vm = session.get(VM, vm_id)
        if vm is None or container_uris(session, [vm.container])[vm.container_id] != uri:
            return  # removed, or placed elsewhere meanwhile
        release_once(session, hooks, vm, reason)


def _place(
    work: Work,
    vm_id: int,
    uri: str,
    conns: Connections,
    dead: Collection[str],
    placed: dict[int, int],
) -> bool:
    """Put one kvm_ha VM of the dead container on another (committed); False if not."""
    with work() as session:
        # Locked (PostgreSQL, MariaDB), so that a second frontend's watcher waits
        # here, then finds the VM placed elsewhere and leaves it.
        vm = session.get(VM, vm_id, with_for_update=True)
        if vm is None or container_uris(session, [vm.container])[vm.container_id] != uri:
            return False
        try:
            shared.check_vm(vm)
            target = _target(session, vm, conns, {uri, *dead}, placed)
            change(session, vm, physnode=target.name)
        except CairnError as exc:
            log.error("%s: not restarted elsewhere: %s", vm.host.name, exc)
            return False
        placed[target.id] = placed.get(target.id, 0) + vm.memory_mb
        return True


def _start(work: Work, hooks: Hooks, vm_ids: list[int], conns: Connections) -> list[str]:
    """Start the placed VMs at once (containers in parallel); the names that started."""
    if not vm_ids:
        return []
    with work() as session:
        vms = list(session.execute(select(VM).where(VM.id.in_(vm_ids))).scalars())
        started = []
        for outcome in start(session, vms, conns, hooks):
            if outcome.failed:
                log.error("%s: restart on %s failed: %s", outcome.vm, outcome.container,
                          outcome.detail)  # fmt: skip
                continue
            log.warning("%s: restarted on %s (%s)", outcome.vm, outcome.container, outcome.result)
            started.append(outcome.vm)
        return started


def _target(
    session: Session, vm: VM, conns: Connections, dead: Collection[str], placed: dict[int, int]
) -> Host:
    """The answering container with the most free memory that fits `vm` (`placed`:
    MB of VMs put there by this fail-over, not yet allocated)."""
    alive = _answering(session, conns, dead, exclude=vm.host_id)
    used = placement.used_memory(session, exclude=vm.id)
    free = {
        c.id: placement.capacity(c, a) - used.get(c.id, 0) - placed.get(c.id, 0)
        for c, a in alive.items()
    }
    chosen = placement.choose(alive, free, vm.memory_mb)
    if chosen is None:
        raise CairnError(f"no other container answers with {vm.memory_mb} MB free")
    return chosen


def _answering(
    session: Session, conns: Connections, dead: Collection[str], *, exclude: int | None = None
) -> dict[Host, dict[str, str]]:
    """{VM container that answers, but those at `dead`: its resolved attributes}."""
    containers = placement.vm_capable(session, exclude=exclude)
    uris = container_uris(session, list(containers))
    alive = {}
    for host, attrs in containers.items():
        if uris[host.id] in dead:
            continue
        try:
            conns.get(uris[host.id])
        except CairnError:
            continue
        alive[host] = attrs
    return alive


def _set_status(work: Work, attrs: dict[str, dict[str, str]], status: str) -> None:
    with work() as session:
        for host in session.execute(select(Host).where(Host.name.in_(list(attrs)))).scalars():
            put_attr(session, Owner(Scope.HOST, host.id, host.name), STATUS, status, replace=True)


def _marked(session: Session, uri: str) -> dict[Host, str]:
    """{container at `uri` with a kvm_ha_status: that status}, VMs left there or not."""
    rows = session.execute(
        select(Host, HostAttr.value).join(HostAttr, HostAttr.host_id == Host.id)
        .where(HostAttr.name == STATUS)
    ).all()  # fmt: skip
    if not rows:
        return {}  # the usual case: one query
    uris = container_uris(session, [host for host, _ in rows])
    return {host: unescape(value) for host, value in rows if uris[host.id] == uri}


def stale_copies(work: Work, uri: str, names: Collection[str]) -> set[str]:
    """Of the domains `names` of the container at `uri`, which answers again:
    the VMs the database places on another container, if this one was fenced
    (its kvm_ha_status says so). What libvirt holds of them there is a second
    copy; this holds after the service restarted too."""
    with work() as session:
        marked = _marked(session, uri)
        if not names or not any(v.startswith("dead, fenced") for v in marked.values()):
            return set()
        vms = session.execute(select(VM).join(VM.host).where(Host.name.in_(list(names))))
        placed = list(vms.scalars())
        uris = container_uris(session, [vm.container for vm in placed])
        return {vm.host.name for vm in placed if uris[vm.container_id] != uri}


def clear_status(work: Work, uri: str) -> list[str]:
    """Remove kvm_ha_status of the containers at `uri` (they answer again); their names."""
    with work() as session:
        marked = _marked(session, uri)
        for host in marked:
            remove_attr(session, Owner(Scope.HOST, host.id, host.name), STATUS)
        return sorted(host.name for host in marked)
