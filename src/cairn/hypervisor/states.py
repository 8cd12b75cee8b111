"""Domain state names: libvirt's VIR_DOMAIN_* states plus "saved" and "undefined".

Only the name map and the derivation rules live here; asking libvirt for a
state is done by `guest` and `listing`.
"""

from __future__ import annotations

from enum import StrEnum

import libvirt


class State(StrEnum):
    NOSTATE = "nostate"
    RUNNING = "running"
    BLOCKED = "blocked"
    PAUSED = "paused"
    SHUTDOWN = "shutting-down"
    SHUTOFF = "shutoff"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    SAVED = "saved"
    """Shut off with a managed-save image: starting it resumes where it was saved."""
    UNDEFINED = "undefined"
    """Not defined on that container."""


_FROM_LIBVIRT: dict[int, State] = {
    libvirt.VIR_DOMAIN_NOSTATE: State.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: State.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: State.BLOCKED,
    libvirt.VIR_DOMAIN_PAUSED: State.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: State.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: State.SHUTOFF,
    libvirt.VIR_DOMAIN_CRASHED: State.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: State.PMSUSPENDED,
}

# States in which a QEMU process exists. CRASHED counts: libvirt reports it only
# for a crashed guest kept around by on_crash=preserve; otherwise a crash is
# SHUTOFF with reason "crashed".
ACTIVE = frozenset(
    {
        State.RUNNING,
        State.BLOCKED,
        State.PAUSED,
        State.SHUTDOWN,
        State.CRASHED,
        State.PMSUSPENDED,
    }
)


def from_libvirt(code: int, has_managed_save: bool = False) -> State:
    """The name of libvirt state `code`; SHUTOFF with a managed-save image is SAVED.

    A code newer than this map (libvirt may add states) reads as NOSTATE.
    """
    state = _FROM_LIBVIRT.get(code, State.NOSTATE)
    if state is State.SHUTOFF and has_managed_save:
        return State.SAVED
    return state
