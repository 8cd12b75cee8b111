"""What the cluster power commands share: the cluster's VMs as lifecycle targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn import values
from cairn.cli.spec import Arg

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import VM

CLUSTER = Arg("cluster", "the cluster name", convert=values.label)


def cluster_vms(ctx: Context, name: str) -> list[VM]:
    from cairn.vms import clusters

    return clusters.members(ctx.session, clusters.one(ctx.session, name))
