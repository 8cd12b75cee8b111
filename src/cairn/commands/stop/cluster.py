"""`cairn stop cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._cluster import CLUSTER, cluster_vms
from cairn.commands._lifecycle import PARALLEL, on_these, stopping

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Stops every VM of a virtual cluster (poweroff, or an ACPI shutdown)."""

    args = (CLUSTER,)
    params = (
        Param(
            "action",
            "poweroff or shutdown",
            "poweroff",
            values.choice("poweroff", "shutdown"),
            metavar="ACTION",
        ),
        Param(
            "timeout", "seconds to wait for a shutdown", 120, values.integer(1, 86400), metavar="S"
        ),
        PARALLEL,
    )
    writes = True
    lists = True
    examples = (Example("cairn stop cluster lab", "Powers off every VM of lab."),)
    related = ("start cluster", "remove cluster", "stop host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        return on_these(cluster_vms(ctx, a["cluster"]), stopping(ctx, a))
