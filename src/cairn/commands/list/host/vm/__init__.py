"""`cairn list host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists virtual machines: slice, memory, CPUs, MACs, container, CDROM.

    As in Rocks: each further MAC (and, with showdisks=yes, each further
    disk, with its size in GB) is a row of its own under the VM's first,
    whose VM fields show '-'; and when a single VM is named exactly, the
    VM-HOST column is left out, so 'cairn list host vm NAME | awk' reads the
    columns a Rocks script expects (output-format=json keeps every key).
    status=yes adds the live state from each container (one listing per
    container). Both together add each disk's REALSIZE on its container:
    `8G!` (and a warning) where it is not the defined size, `none` for a disk
    not made yet; `start host vm` or `set host vm disksize=` grows a smaller
    disk, and cairn never shrinks one.
    """

    args = (HOSTS,)
    params = (
        Param("showdisks", "show the disks", False, values.boolean, metavar="BOOL"),
        Param(
            "status", "ask the containers for the live state", False, values.boolean, metavar="BOOL"
        ),
    )
    lists = True
    examples = (
        Example("cairn list host vm", "Every VM."),
        Example("cairn list host vm showdisks=yes", "Every VM with its disks."),
        Example("cairn list host vm hosted-vm-0-0-0", "One VM, without the VM-HOST column."),
    )
    related = ("add host vm", "set host vm", "start host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.vms.facts import vm_facts
        from cairn.vms.listing import table

        session = ctx.session
        vms = vm_facts(session, a["host"], all_if_empty=True)
        states = real = None
        if a["status"]:
            from cairn.vms.status import fact_states

            states = fact_states(session, vms)
            if a["showdisks"]:
                from cairn.lifecycle.disks import real_sizes
                from cairn.vms.define import mapped

                real = real_sizes(session, mapped(session, vms))
        one_named = len(a["host"]) == 1 and [vm.host.name for vm in vms] == a["host"]
        columns, rows = table(session, vms, showdisks=a["showdisks"], states=states, real=real)
        if real is not None:
            at = columns.index("DISK")
            for row in rows:
                if str(row[at + 2]).endswith("!"):
                    ctx.note(
                        f"{row[0]}: disk {row[at]} is {row[at + 2][:-1]} on its container,"
                        f" not {row[at + 1]}G as defined"
                    )
        return Table(columns, rows, hide_owner=one_named)
