"""`cairn container return`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Brings a container that `container evacuate` took out of service back.

    Starts, moves and allocation may put VMs on it again (its host attribute
    kvm_maintenance is removed). VMs that moved away stay where they went;
    `move host vm` brings one back.
    """

    args = (Arg("container", "the VM container to bring back"),)
    writes = True
    examples = (Example("cairn container return vm-container-0-0", "In service again."),)
    related = ("container evacuate", "move host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.inventory.containers import check_container
        from cairn.inventory.maintenance import set_out_of_service
        from cairn.vms.define import inventory_host

        container = inventory_host(ctx.session, a["container"])
        check_container(ctx.session, container)
        changed = set_out_of_service(ctx.session, container, False)
        said = "is in service again" if changed else "was in service already"
        return Text(f"{container.name} {said}\n")
