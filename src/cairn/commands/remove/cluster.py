"""`cairn remove cluster`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Text
from cairn.commands._cluster import CLUSTER, cluster_vms
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Removes a virtual cluster: its VMs (disks kept) and its network.

    Refused while any of its VMs runs, naming them, unless force=yes, which
    powers them off first. The network goes too unless another host is on it.
    """

    args = (CLUSTER,)
    params = (Param("force", "power running VMs off first", False, values.boolean, metavar="BOOL"),)
    writes = True
    examples = (Example("cairn remove cluster lab", "Removes cluster lab (none of it running)."),)
    related = ("add cluster", "stop cluster")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.hypervisor.connections import Connections
        from cairn.hypervisor.states import ACTIVE
        from cairn.lifecycle.hooks import Hooks
        from cairn.lifecycle.stop import stop
        from cairn.vms import clusters
        from cairn.vms.forget import forget_domains
        from cairn.vms.status import live_states

        cluster = clusters.one(ctx.session, a["cluster"])
        vms = cluster_vms(ctx, a["cluster"])
        states = live_states(ctx.session, vms)
        active = {str(s) for s in ACTIVE}
        running = [vm for vm in vms if states.get(vm.id) in active]
        if running and not a["force"]:
            names = ", ".join(vm.host.name for vm in running[:4])
            raise CairnError(
                f"cluster {cluster.name} has running VMs ({names}"
                f"{' and more' if len(running) > 4 else ''}): stop it first (cairn stop cluster"
                f" {cluster.name}), or give force=yes"
            )
        if running:
            with Connections() as conns:
                outcomes = stop(ctx.session, running, conns, Hooks.load(), action="poweroff")
            failed = [o for o in outcomes if o.failed]
            if failed:
                raise CairnError(f"could not power off {failed[0].vm}: {failed[0].detail}")
        forget_domains(ctx.session, [vm.host for vm in vms], ctx.notes)
        gone = clusters.remove(ctx.session, cluster)
        return Text("".join(f"removed {name}\n" for name in [*gone, f"cluster {cluster.name}"]))
