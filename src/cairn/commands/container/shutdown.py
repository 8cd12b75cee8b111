"""`cairn container shutdown`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands.container._power import URI, table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Saves or shuts down this container's VMs before the machine goes down.

    Run by the cairn-container service when the container shuts down cleanly
    (it needs no database). Running VMs marked autostart (kvm_autostart=true
    when they were started) are paused and saved to disk, in parallel, so that
    'container boot' restores them; a VM that cannot be saved in time is shut
    down instead and reported. The other VMs get an ACPI shutdown, then are
    powered off if they ignore it. Exit status 1 if any VM was not saved or
    shut down as intended.

    Only the VMs cairn defined on this container are touched (their domain
    XML carries cairn's metadata); all=yes takes every running domain of the
    hypervisor. VMs go down in the reverse of their start order
    (kvm_start_order: VMs without one first, then the highest group, ...),
    each group in parallel and down before the next begins. Nothing is
    stopped without yes=true (the cairn-container service passes it): without
    it, the table says what would be done (and a warning says nothing was).
    """

    params = (
        URI,
        Param(
            "timeout",
            "seconds allowed per VM to save or shut down",
            300,
            values.integer(1, 86400),
            metavar="S",
        ),
        Param("parallel", "VMs saved at once", 4, values.integer(1, 64), metavar="N"),
        Param("yes", "really stop them (without: say what would be done)", False,
              values.boolean, metavar="BOOL"),
        Param("all", "also domains cairn did not define", False, values.boolean, metavar="BOOL"),
    )  # fmt: skip
    uses_db = False
    lists = True
    examples = (
        Example(
            "cairn container shutdown uri=test:///default",
            "Says what it would do, stops nothing.",
        ),
        Example(
            "cairn container shutdown uri=test:///default timeout=60 yes=true",
            "Saves autostart VMs, stops the rest, in reverse start order.",
        ),
    )
    related = ("container boot", "report host profile")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.container import power
        from cairn.hypervisor.connections import Connections

        with Connections() as conns:
            rows = power.shutdown(
                conns.get(a["uri"]),
                timeout=a["timeout"],
                parallel=a["parallel"],
                progress=ctx.progress,
                everything=a["all"],
                act=a["yes"],
            )
        done = table(rows)
        if not a["yes"]:
            ctx.note("nothing was stopped: run it again with yes=true to do the above")
        return done
