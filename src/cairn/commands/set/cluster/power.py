"""`cairn set cluster power` (Rocks' power command for a virtual cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base
from cairn.commands._power import ACTION, DELAY
from cairn.commands._tenant import HERE_WITH, TENANT

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Powers the computes of a virtual cluster on, off, or on to install.

    Every compute VM of the cluster whose frontend is FRONTEND, never the
    frontend itself, as Rocks did: the actions are those of `cairn set host
    power` (on starts, off powers off hard, install boots from the network to
    install). delay= waits that many seconds between one compute and the next
    (Rocks' default was 1 s); without it they all start at once.

    With key=, it is a tenant's request: signed with that private key on this
    machine (no database needed) and sent to the Airboss (airboss=), which acts
    only if the key is bound to FRONTEND.
    """

    args = (Arg("frontend", "the cluster's frontend VM (or the cluster's name)"),)
    params = (ACTION, DELAY, *TENANT)
    here_with = HERE_WITH
    writes = True
    lists = True
    examples = (
        Example("cairn set cluster power lab action=on", "Starts the computes of lab."),
        Example(
            "cairn set cluster power lab action=install delay=2",
            "Installs them from the network, 2 seconds apart.",
        ),
        Example(
            "cairn set cluster power lab action=off key=~/.cairn/lab-owner airboss=127.0.0.1",
            "The tenant powers off its computes through the Airboss.",
        ),
    )
    related = ("set host power", "start cluster", "stop cluster", "list host macs")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.commands._lifecycle import COLUMNS
        from cairn.commands._power import paced_calls, power

        if a["key"]:
            params = {"action": a["action"], "delay": f"{a['delay']:g}"}
            return paced_calls(a, "cluster-power", [a["frontend"]], params, COLUMNS)
        from cairn.vms import clusters

        cluster = clusters.of_frontend(ctx.session, a["frontend"])
        return power(ctx, clusters.computes(ctx.session, cluster), a["action"], a["delay"])
