"""After a live migration that failed: where the VM runs, and the copy to end.

libvirt's error does not say where the guest is. It may fail before the switch
(the VM still runs on the old container; the new one may hold a paused,
incoming copy), or after it (the VM runs on the new container; the old one may
hold a paused copy that libvirt's last phase would have ended). `where` decides
from the two states alone, as data; `settle` asks both containers, ends the
copy that does not run, and says which one runs, so that `move` records
exactly that container. What to record and how to say it is cairn.lifecycle.move's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import Enum

from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import DomainNotFound
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE, State

_RUNS = frozenset({State.RUNNING, State.BLOCKED})


class Side(Enum):
    OLD = "old"
    NEW = "new"
    NEITHER = "neither"
    BOTH = "both"


def where(old: State | None, new: State | None) -> Side:
    """Which container holds the VM, from its state on each (None: that container
    did not answer). A paused copy beside a running one is the migration's
    leftover, the running one is the VM; when neither runs, the VM is where its
    memory is sure to be: the old container unless only the new one holds it."""
    if old in _RUNS and new in _RUNS:
        return Side.BOTH
    if new in _RUNS:
        return Side.NEW  # switched; an old paused copy is what the last phase would end
    if old in _RUNS or old is None or old in ACTIVE:
        return Side.OLD  # never switched (or not known to have): an incoming copy never ran
    if new in ACTIVE:
        return Side.NEW  # the old copy is gone: the memory is only there
    return Side.NEITHER


def settle(source: Guest, conns: Connections, uri: str, *, resume: bool) -> Side:
    """Ask both containers where the VM is after a failed migration to `uri`, end
    the other copy (only the same domain: same UUID), resume the VM if it was
    running before (`resume`) and is left paused, and say where it is."""
    old = _state(source.state)
    there: Guest | None = None
    with contextlib.suppress(CairnError):
        found = Guest.lookup(conns.get(uri), source.name)
        if found.uuid() == source.uuid():  # never a different domain of that name
            there = found
    new = _state(there.state) if there is not None else State.UNDEFINED
    side = where(old, new)
    keep, drop = (there, source) if side is Side.NEW else (source, there)
    if side in (Side.OLD, Side.NEW):
        if drop is not None:
            _end(drop)
        if resume and keep is not None:
            with contextlib.suppress(CairnError):
                keep.resume()  # False when it runs already
    return side


def _state(read: Callable[[], State]) -> State | None:
    try:
        return read()
    except DomainNotFound:
        return State.UNDEFINED
    except CairnError:
        return None


def _end(guest: Guest) -> None:
    # Best effort: a container that does not answer keeps its copy, and says so
    # in its own time (the watcher sees it).
    with contextlib.suppress(CairnError):
        guest.poweroff()
    with contextlib.suppress(CairnError):
        guest.undefine()
