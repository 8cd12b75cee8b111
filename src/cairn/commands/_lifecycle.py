"""What the VM lifecycle commands share: the parallel= parameter and the result table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cairn import values
from cairn.cli.spec import Param, Table

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import VM
    from cairn.hypervisor.connections import Connections
    from cairn.lifecycle.runner import Outcome

PARALLEL = Param("parallel", "containers worked on at once", 8, values.integer(1, 256), metavar="N")
COLUMNS = ("HOST", "CONTAINER", "RESULT", "DETAIL")


def on_vms(
    ctx: Context, words: list[str], act: Callable[[list[VM], Connections], Sequence[Outcome]]
) -> Table:
    """Run `act` on the VMs the words name, with one libvirt connection per container."""
    from cairn.vms.define import vms_for

    return on_these(vms_for(ctx.session, words), act)


def on_these(vms: list[VM], act: Callable[[list[VM], Connections], Sequence[Outcome]]) -> Table:
    """Run `act` on `vms` (a cluster's, say), with one libvirt connection per container."""
    from cairn.hypervisor.connections import Connections

    with Connections() as conns:
        return table(act(vms, conns))


def table(outcomes: Sequence[Outcome]) -> Table:
    failed = any(o.failed for o in outcomes)
    return Table(COLUMNS, [o.row() for o in outcomes], status=1 if failed else 0)
