"""`cairn container boot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands.container._power import URI, table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Brings this container's autostart VMs back after it boots.

    Run by the cairn-container service once libvirtd is up (it needs no
    database). Every VM marked autostart that is not running is started:
    restored from its saved image after a clean shutdown, booted normally after
    a crash. VMs without autostart stay off. Safe to run again: running VMs
    are left alone (libvirtd may already have started them).

    VMs start in groups by kvm_start_order, lowest first, VMs without one
    last; after a group in which something started, the next waits the
    group's largest kvm_start_delay (seconds). The table lists VMs in the
    order they were started.
    """

    params = (URI,)
    uses_db = False
    lists = True
    examples = (
        Example("cairn container boot uri=test:///default", "Restores or boots autostart VMs."),
    )
    related = ("container shutdown", "report host profile")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.container import power
        from cairn.hypervisor.connections import Connections

        with Connections() as conns:
            rows = power.boot(conns.get(a["uri"]))
        return table(rows)
