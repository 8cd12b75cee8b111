"""`cairn add host`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a host to the cluster database.

    The name must be a DNS label. rack and rank place it (compute-0-1 is
    usually rack 0, rank 1); cpus is what it offers to the scheduler.
    """

    args = (Arg("host", "the new host name", convert=values.label),)
    params = (
        Param(
            "appliance",
            "its appliance (see: cairn list appliance)",
            required=True,
            convert=values.label,
            metavar="APP",
        ),
        Param("rack", "rack number", 0, values.integer(0, 99999), metavar="N"),
        Param("rank", "rank in the rack", 0, values.integer(0, 99999), metavar="N"),
        Param("cpus", "number of CPUs", 1, values.integer(1, 4096), metavar="N"),
        Param("os", "operating system", "linux", values.label, metavar="OS"),
    )
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn add host compute-0-5 appliance=compute rack=0 rank=5 cpus=16",
            "Adds a compute node.",
        ),
        Example(
            "cairn add host vm-container-1-0 appliance=vm-container rack=1 rank=0",
            "Adds a VM container.",
        ),
    )
    related = ("list host", "remove host", "add host interface", "set host attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import hosts

        hosts.insert_host(
            ctx.session,
            a["host"],
            a["appliance"],
            rack=a["rack"],
            rank=a["rank"],
            cpus=a["cpus"],
            os=a["os"],
        )
