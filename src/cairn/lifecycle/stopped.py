"""The watcher's releases of VMs that stopped by themselves, many at a time.

A storm of stops (a rack's VMs destroyed at once, a container's guests
powered off together) comes as one stop event per VM. Handled one at a time,
each cost a transaction of its own with its queries (the VM, its container's
URI) and its commit: 4.5 ms of CPU each on an idle frontend (7 ms in all),
and on a loaded one 200 took more than a minute. So the watcher hands over
every stop it has queued: one query finds their VMs, one resolves their
containers' URIs, one commit ends it; plugin_disallocate still runs per VM,
in a savepoint (`release_once`).

A stop is old news, not released, when its VM runs again by the time it is
handled (stopped, then started again while the event waited in the queue):
the container is asked, once per container and batch (up to ASKERS side by
side), after the VM's row is locked, so a start that holds the row (its
allocation not yet committed) is waited for; a VM released already is not
asked about. A stop whose container cannot be asked waits for the next try.

Exactly once, with two frontends on one database: the rows are locked
(PostgreSQL, MariaDB) in one statement that skips those another transaction
holds; a batch never waits for a row while it holds others, so it cannot
deadlock with a command or the other frontend's watcher. The VMs it skipped
are released one at a time afterwards, each waiting for its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.chunks import pieces
from cairn.db.models import VM, Host
from cairn.errors import CairnError
from cairn.hypervisor.events import Stopped
from cairn.hypervisor.states import ACTIVE, State
from cairn.inventory.containers import container_uris
from cairn.lifecycle.hooks import Hooks, release_once

log = logging.getLogger("cairn.watch")

Work = Callable[[], AbstractContextManager[Session]]
ASKERS = 32  # containers asked at once whether their stopped VMs run again
Ask = Callable[[str], dict[str, State]]  # URI -> its domains' states; CairnError if it cannot


def release_stopped(
    work: Work, hooks: Hooks, stops: Sequence[Stopped], ask: Ask, *, wait: bool = False
) -> tuple[list[Stopped], list[Stopped]]:
    """Release the VMs of `stops` in one transaction. Returns (the stops whose
    rows another transaction held, to be done one at a time with `wait`; the
    stops whose containers could not be asked, to be tried again later)."""
    by_name: dict[str, list[Stopped]] = {}
    for stop in stops:
        by_name.setdefault(stop.name, []).append(stop)
    held: list[Stopped] = []
    unasked: list[Stopped] = []
    with work() as session:
        vms = _lock(session, sorted(by_name), wait=wait)
        locked = {vm.host.name for vm in vms}
        if len(locked) < len(by_name):
            for name in _cairn_vms(session, sorted(set(by_name) - locked)):
                held.extend(by_name[name])
        uris = container_uris(session, [vm.container for vm in vms]) if vms else {}
        # Each VM's stops heard from where it is now (else it moved: an old copy).
        heard = {
            vm: [s for s in by_name[vm.host.name] if s.uri == uris[vm.container_id]] for vm in vms
        }
        todo = {vm: here for vm, here in heard.items() if here}
        states = _ask_all(ask, {here[-1].uri for vm, here in todo.items() if vm.allocated})
        for vm, here in todo.items():
            name, uri, reason = vm.host.name, here[-1].uri, here[-1].reason
            now = states.get(uri)
            if vm.allocated and now is None:
                unasked.extend(here)
            elif now is not None and now.get(name, State.UNDEFINED) in ACTIVE:
                log.info("%s runs again on %s: its stop (%s) is old news", name, uri, reason)
            else:
                _release(session, hooks, vm, here[-1])
    return held, unasked


def _lock(session: Session, names: list[str], *, wait: bool) -> list[VM]:
    """The VMs named, their rows locked in name order; without `wait`, those
    another transaction holds are left out instead of waited for."""
    found: list[VM] = []
    for piece in pieces(names):
        query = (
            select(VM)
            .join(VM.host)
            .where(Host.name.in_(piece))
            .order_by(Host.name)
            .with_for_update(of=VM, skip_locked=not wait)
        )
        found.extend(session.execute(query).unique().scalars())
    return found


def _cairn_vms(session: Session, names: list[str]) -> list[str]:
    """Those of `names` that are cairn's VMs (read without a lock)."""
    found: list[str] = []
    for piece in pieces(names):
        query = select(Host.name).join(VM, VM.host_id == Host.id).where(Host.name.in_(piece))
        found.extend(session.execute(query).scalars())
    return found


def _ask_all(ask: Ask, uris: set[str]) -> dict[str, dict[str, State] | None]:
    """{URI: its domains' states, None if it could not be asked}, the containers
    asked side by side: one at a time, a storm over 100 containers waited for
    100 round trips to libvirtds busy tearing their guests down."""
    if not uris:
        return {}
    ordered = sorted(uris)
    with ThreadPoolExecutor(min(ASKERS, len(ordered))) as pool:
        return dict(zip(ordered, pool.map(lambda uri: _ask(ask, uri), ordered), strict=True))


def _ask(ask: Ask, uri: str) -> dict[str, State] | None:
    try:
        return ask(uri)
    except CairnError as exc:
        log.warning("cannot tell whether the VMs that stopped on %s run again: %s", uri, exc)
        return None


def _release(session: Session, hooks: Hooks, vm: VM, stop: Stopped) -> None:
    reason = f"stopped-by-itself ({stop.reason})"
    ran = release_once(session, hooks, vm, reason)
    # Not a reset asked of libvirt (virsh reset; cairn's own restarts such a VM
    # instead): that ends an install's domain too (on_reboot=destroy), but the
    # install is not over.
    ended = stop.reason == "shutdown" and not stop.asked
    if ran and ended and vm.host.boot == "install":
        # Its installer ended it (an install's reboot ends the domain; an
        # installer may power off): the install is over, so it boots its OS
        # from now on, as Rocks' installed node set itself to os.
        vm.host.boot = "os"
        log.info("%s: its install ended (%s): boot set to os", vm.host.name, reason)
