"""`cairn list cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists virtual clusters: network, frontend and computes, each VM's container."""

    args = (Arg("cluster", "cluster names (default: all)", required=False, many=True),)
    lists = True
    examples = (Example("cairn list cluster", "Every virtual cluster, a VM a line."),)
    related = ("add cluster", "start cluster")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import Cluster
        from cairn.vms import clusters

        if a["cluster"]:
            found = [clusters.one(ctx.session, n) for n in a["cluster"]]
        else:
            found = list(ctx.session.execute(select(Cluster).order_by(Cluster.name)).scalars())
        rows = []
        for cluster in found:
            for vm in clusters.members(ctx.session, cluster):
                role = "frontend" if vm.host_id == cluster.frontend_id else "compute"
                rows.append(
                    (cluster.name, cluster.network.name, vm.host.name, role, vm.container.name)
                )
        return Table(("CLUSTER", "NETWORK", "HOST", "ROLE", "CONTAINER"), rows)
