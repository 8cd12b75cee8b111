"""`container evacuate`: a container out of service and its running VMs moved live elsewhere.

The container is marked out of service first (cairn.inventory.maintenance), and
that is committed before any VM moves, so that no start or allocation puts a
VM there while its VMs leave. Then its running VMs go, one at a time, each to
the container cairn.vms.placement chooses for it (the rule of the example
plugin_allocate: in service, reaching its networks, the most free memory), by
`move` (cairn.lifecycle.move, the code of `move host vm`). Each move is
committed as soon as libvirt has done it, so the database never says a VM that
left is still here, whatever happens to the VMs after it.

A VM stays, and says why, when no container fits it, when its CDROM image is
not on the container chosen for it (libvirt copies disks, never a CDROM), when
the move fails (it then runs here still: see cairn.lifecycle.move), or when it
is not running (off or saved: it moves with `move host vm` once stopped). How
the result is printed is the command's (commands/container/evacuate.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host
from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.listing import list_states
from cairn.hypervisor.states import ACTIVE, State
from cairn.hypervisor.storage import volume_exists
from cairn.inventory.containers import check_container, container_uris
from cairn.inventory.maintenance import set_out_of_service
from cairn.lifecycle.move import move
from cairn.lifecycle.runner import Progress, no_progress
from cairn.vms.placement import place


@dataclass(frozen=True)
class Departure:
    """What became of one VM of the evacuated container."""

    vm: str
    state: str  # as it was when the evacuation began
    container: str  # where it runs now
    result: str  # what the move said, or why it stayed
    stayed: bool

    @property
    def stuck(self) -> bool:
        """A running VM that could not leave (the container is not empty of work)."""
        return self.stayed and self.state in {str(s) for s in ACTIVE}


def evacuate(
    session: Session,
    container: Host,
    conns: Connections,
    *,
    copy_storage: bool,
    commit: Callable[[], None],
    progress: Progress = no_progress,
) -> list[Departure]:
    """Mark `container` out of service, then move its running VMs; one Departure per VM."""
    check_container(session, container)
    set_out_of_service(session, container, True)
    commit()
    vms = list(
        session.execute(
            select(VM).join(Host, VM.host_id == Host.id)
            .where(VM.container_id == container.id).order_by(Host.name)
        ).scalars()
    )  # fmt: skip
    uri = container_uris(session, [container])[container.id]
    try:
        states = list_states(conns.get(uri))
    except CairnError as exc:  # nothing moved; out of service all the same
        raise CairnError(
            f"{exc}; no VM moved, and {container.name} is out of service (cairn container"
            f" return {container.name} brings it back)"
        ) from None
    out = []
    for done, vm in enumerate(vms, 1):
        name = vm.host.name
        state = states.get(name, State.UNDEFINED)
        progress(done - 1, len(vms), name)
        out.append(_leave(session, vm, state, container, conns, copy_storage))
        commit()
    progress(len(vms), len(vms), "")
    return out


def _leave(
    session: Session,
    vm: VM,
    state: State,
    container: Host,
    conns: Connections,
    copy_storage: bool,
) -> Departure:
    name, here = vm.host.name, container.name

    def stays(why: str) -> Departure:
        return Departure(name, str(state), here, why, True)

    if state is State.SAVED:
        return stays("saved here: restore it to move it, or stop it")
    if state not in ACTIVE:
        return stays(f"not running ({state}): cairn move host vm {name} CONTAINER moves it")
    savepoint = session.begin_nested()
    try:
        target = place(session, vm)
        _refuse_local_cdrom(session, vm, target, conns)
        said = move(session, vm, target.name, conns, live=True, copy_storage=copy_storage)
    except CairnError as exc:
        savepoint.rollback()
        return stays(str(exc))
    savepoint.commit()
    return Departure(name, str(state), target.name, said, False)


def _refuse_local_cdrom(session: Session, vm: VM, target: Host, conns: Connections) -> None:
    """A CDROM image must be on the new container already: libvirt copies a VM's
    disks, never its CDROM (read-only), and QEMU there cannot start without it."""
    if not vm.cdrom:
        return
    if vm.cdrom.startswith("/dev/"):
        raise CairnError(f"its CDROM is {vm.container.name}'s drive {vm.cdrom}")
    uri = container_uris(session, [target])[target.id]
    if not volume_exists(conns.get(uri), vm.cdrom):
        raise CairnError(
            f"its CDROM {vm.cdrom} is on {vm.container.name}'s local disk, not on {target.name}"
            " (the container chosen for it): put a copy at that path there, or stop the VM"
            " and move it"
        )
