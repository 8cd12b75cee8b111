"""`cairn list host macs` (Rocks' listing of a virtual cluster's MACs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Table
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the MACs of a virtual cluster's VMs, its frontend first.

    One line per interface that has a MAC: the MAC first (as Rocks printed
    it, so `awk '{print $1}'` still gives the MACs), then the VM, its
    interface and the network it is on; with status=yes, the VM's live state
    on its container. A tenant's cairn learns its computes from it.
    """

    args = (Arg("frontend", "the cluster's frontend VM (or the cluster's name)"),)
    params = (Param("status", "add each VM's live state", False, values.boolean, metavar="BOOL"),)
    lists = True
    examples = (
        Example("cairn list host macs lab", "The MACs of lab's frontend and computes."),
        Example("cairn list host macs lab status=yes", "The same, with each VM's state."),
    )
    related = ("set host power", "set cluster power", "list cluster", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.db.hostfacts import natural
        from cairn.vms import clusters
        from cairn.vms.status import live_states

        vms = clusters.members(ctx.session, clusters.of_frontend(ctx.session, a["frontend"]))
        states = live_states(ctx.session, vms) if a["status"] else {}
        rows = []
        for vm in vms:
            for iface in sorted(vm.host.interfaces, key=lambda i: natural(i.name)):
                if iface.mac:
                    net = iface.network.name if iface.network else "-"
                    row = (iface.mac, vm.host.name, iface.name, net)
                    rows.append((*row, states[vm.id]) if a["status"] else row)
        columns = ("MAC", "HOST", "IFACE", "NETWORK")
        return Table((*columns, "STATE") if a["status"] else columns, rows)
