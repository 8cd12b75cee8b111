"""`cairn list host macs` (Rocks' listing of a virtual cluster's MACs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Table
from cairn.cli.spec import Command as Base
from cairn.commands._tenant import HERE_WITH, TENANT

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the MACs of a virtual cluster's VMs, its frontend first.

    One line per interface that has a MAC: the MAC first (as Rocks printed
    it, so `awk '{print $1}'` still gives the MACs), then the VM, its
    interface and the network it is on; with status=yes, the VM's live state
    on its container. A tenant's cairn learns its computes from it.

    With key=, it is a tenant's request: signed with that private key on this
    machine (no database needed) and sent to the Airboss (airboss=), which
    answers only if the key is bound to FRONTEND.
    """

    args = (Arg("frontend", "the cluster's frontend VM (or the cluster's name)"),)
    params = (
        Param("status", "add each VM's live state", False, values.boolean, metavar="BOOL"),
        *TENANT,
    )
    here_with = HERE_WITH
    lists = True
    examples = (
        Example("cairn list host macs lab", "The MACs of lab's frontend and computes."),
        Example("cairn list host macs lab status=yes", "The same, with each VM's state."),
        Example(
            "cairn list host macs lab key=~/.cairn/lab-owner airboss=127.0.0.1",
            "A tenant lists its cluster's MACs through the Airboss.",
        ),
    )
    related = ("set host power", "set cluster power", "list cluster", "list host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        columns = ("MAC", "HOST", "IFACE", "NETWORK", *(("STATE",) if a["status"] else ()))
        if a["key"]:
            from cairn.commands._tenant import call, rows_table

            status = {"status": "yes" if a["status"] else "no"}
            return rows_table(call(a, "macs", a["frontend"], status), columns)
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
        return Table(columns, rows)
