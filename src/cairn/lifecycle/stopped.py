"""The watcher's releases of VMs that stopped by themselves, many at a time.

A storm of stops (a rack's VMs destroyed at once, a container's guests
powered off together) comes as one stop event per VM. Handled one at a time,
each cost a transaction of its own with its queries (the VM, its container's
URI) and its commit: at 7 ms of CPU each on an idle frontend, and far more on
a loaded one, 200 of them took minutes. So the watcher hands over every stop
it has queued: one query finds their VMs, one resolves their containers' URIs,
one commit ends it; plugin_disallocate still runs per VM, in a savepoint
(`release_once`).

A stop is old news, not released, when its VM runs again by the time it is
handled (stopped, then started again while the event waited in the queue):
the container is asked, once per container and batch, after the VM's row is
locked, so a start that holds the row (its allocation not yet committed) is
waited for. A stop whose container cannot be asked waits for the next try.

Exactly once, with two frontends on one database: the rows are locked
(PostgreSQL, MariaDB) in one statement that skips those another transaction
holds; a batch never waits for a row while it holds others, so it cannot
deadlock with a command or the other frontend's watcher. The VMs it skipped
are released one at a time afterwards, each waiting for its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
        states: dict[str, dict[str, State] | None] = {}
        for vm in vms:
            name = vm.host.name
            here = [s for s in by_name[name] if s.uri == uris[vm.container_id]]
            if not here:
                continue  # it has moved; an old copy stopping
            uri = here[-1].uri
            if uri not in states:
                states[uri] = _ask(ask, uri)
            now = states[uri]
            if now is None:
                unasked.extend(here)
                continue
            if now.get(name, State.UNDEFINED) in ACTIVE:
                log.info(
                    "%s runs again on %s: its stop (%s) is old news", name, uri, here[-1].reason
                )
                continue
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


def _ask(ask: Ask, uri: str) -> dict[str, State] | None:
    try:
        return ask(uri)
    except CairnError as exc:
        log.warning("cannot tell whether the VMs that stopped on %s run again: %s", uri, exc)
        return None


def _release(session: Session, hooks: Hooks, vm: VM, stop: Stopped) -> None:
    reason = f"stopped-by-itself ({stop.reason})"
    ran = release_once(session, hooks, vm, reason)
    if ran and stop.reason == "shutdown" and vm.host.boot == "install":
        # Its installer ended it (a kernel boot's reboot ends the domain;
        # an installer may power off): the install is over, so it boots
        # its OS from now on, as Rocks' installed node set itself to os.
        vm.host.boot = "os"
        log.info("%s: its install ended (%s): boot set to os", vm.host.name, reason)
