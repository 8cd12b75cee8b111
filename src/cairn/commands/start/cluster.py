"""`cairn start cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._cluster import CLUSTER, cluster_vms
from cairn.commands._lifecycle import PARALLEL, on_these, starting

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Starts every VM of a virtual cluster, as `start host vm` does."""

    args = (CLUSTER,)
    params = (PARALLEL,)
    writes = True
    lists = True
    examples = (Example("cairn start cluster lab", "Starts the frontend and computes of lab."),)
    related = ("stop cluster", "list cluster", "start host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        return on_these(cluster_vms(ctx, a["cluster"]), starting(ctx, a))
