"""`cairn add appliance`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds an appliance (a kind of host: compute, vm-container, ...).

    With kvm=yes its hosts may run VMs (the appliance attribute kvm is set).
    """

    args = (Arg("appliance", "the new appliance name", convert=values.label),)
    params = (
        Param("kvm", "hosts of this appliance may run VMs", None, values.boolean, metavar="BOOL"),
    )
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example("cairn add appliance gpu-node kvm=yes", "Adds an appliance whose hosts run VMs."),
    )
    related = ("list appliance", "remove appliance", "set appliance attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts

        hosts.add_appliance(ctx.session, a["appliance"], a["kvm"])
