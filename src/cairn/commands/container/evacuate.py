"""`cairn container evacuate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Table
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context

COLUMNS = ("VM", "STATE", "CONTAINER", "RESULT")


class Command(Base):
    """Takes a container out of service and moves its running VMs live to others.

    For maintenance: first the container is marked out of service (its host
    attribute kvm_maintenance), so that no start, move or allocation puts a VM
    on it; then each running VM moves live, one after another, to the
    container that the allocation rule of the example plugin_allocate chooses
    (in service, reaching the VM's networks, the most free memory that fits
    it), as `move host vm` moves it (a guest on emulated CPUs, TCG, moves
    paused). copy-storage=yes copies disks that are
    local to the container (as for `move host vm`). Each move is recorded as
    soon as it is done.

    A VM that cannot move stays and the table says why: no container has room
    for it, its CDROM image is only on this container's disk, the move failed
    (it then still runs here), or it is not running (off or saved VMs stay;
    `move host vm` moves them). The last line says what stayed. The exit
    status is 1 if a running VM stayed. Run it again once that is fixed; the
    container stays out of service until `cairn container return` brings it
    back.
    """

    args = (Arg("container", "the VM container to empty"),)
    params = (
        Param(
            "copy-storage",
            "copy the VMs' disks to the new containers (no shared storage)",
            False,
            values.boolean,
            metavar="BOOL",
        ),
    )
    writes = True
    lists = True
    examples = (
        Example(
            "cairn container evacuate vm-container-0-0",
            "Out of service; its running VMs moved to other containers.",
        ),
        Example(
            "cairn container evacuate vm-container-0-0 copy-storage=yes",
            "The same, for VMs whose disks are local to the container.",
        ),
    )
    related = ("container return", "move host vm", "list host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.evacuate import evacuate
        from cairn.vms.define import inventory_host

        container = inventory_host(ctx.session, a["container"])
        with Connections() as conns:
            left = evacuate(
                ctx.session,
                container,
                conns,
                copy_storage=a["copy_storage"],
                commit=ctx.session.commit,
                progress=ctx.progress,
            )
        stayed = [d for d in left if d.stayed]
        back = f"cairn container return {container.name} brings it back"
        if stayed:
            names = ", ".join(d.vm for d in stayed)
            ctx.note(
                f"{container.name} is out of service ({back}); {len(stayed)} VM"
                f"{'s' if len(stayed) != 1 else ''} stayed on it: {names}"
            )
        else:
            ctx.note(f"{container.name} is out of service and holds no VM ({back})")
        rows = [(d.vm, d.state, d.container, d.result) for d in left]
        return Table(COLUMNS, rows, status=1 if any(d.stuck for d in left) else 0)
