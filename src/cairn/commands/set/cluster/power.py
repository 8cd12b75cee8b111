"""`cairn set cluster power` (Rocks' power command for a virtual cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base
from cairn.commands._power import ACTION, DELAY

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Powers the computes of a virtual cluster on, off, or on to install.

    Every compute VM of the cluster whose frontend is FRONTEND, never the
    frontend itself, as Rocks did: the actions are those of `cairn set host
    power` (on starts, off powers off hard, install boots from the network to
    install). delay= waits that many seconds between one compute and the next
    (Rocks' default was 1 s); without it they all start at once.
    """

    args = (Arg("frontend", "the cluster's frontend VM (or the cluster's name)"),)
    params = (ACTION, DELAY)
    writes = True
    lists = True
    examples = (
        Example("cairn set cluster power lab action=on", "Starts the computes of lab."),
        Example(
            "cairn set cluster power lab action=install delay=2",
            "Installs them from the network, 2 seconds apart.",
        ),
    )
    related = ("set host power", "start cluster", "stop cluster", "list host macs")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.commands._power import power
        from cairn.vms import clusters

        cluster = clusters.of_frontend(ctx.session, a["frontend"])
        return power(ctx, clusters.computes(ctx.session, cluster), a["action"], a["delay"])
