"""`cairn sync host network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Applies the database's network plan to running hosts: bridges, VLAN, VXLAN.

    For each network a host takes part in (see `cairn add network`), makes its
    bridge and the bridge's port: the host's interface on a plain network (its
    address moves to the bridge), an 802.1Q device on the carrier interface, or
    a VXLAN device between the carrier addresses of the hosts on that network.
    Only what differs is changed, and each change is listed; a second run
    changes nothing. Commands run through the host's attribute network_command
    (a prefix such as 'ssh {host}' or 'ip netns exec {host}'; others only if
    the config file's network_commands lists them); on this machine they run
    directly, on others through 'ssh {host}' by default. dry-run=yes runs
    nothing, here or on the host: it lists every step of the plan, as for a
    host that has none of it.
    """

    args = (HOST,)
    params = (
        Param(
            "dry-run",
            "list the plan's steps, running nothing (not even to read the host)",
            convert=values.boolean,
            metavar="BOOL",
        ),
    )
    lists = True
    examples = (
        Example("cairn sync host network compute-0-1", "Makes the host's bridges, if any."),
        Example(
            "cairn sync host network compute-0-1 dry-run=yes",
            "Lists the steps of the host's plan, running nothing.",
        ),
    )
    related = ("add network", "set network", "report host profile")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.container.netsync import sync_hosts
        from cairn.inventory import lookup

        hosts = lookup.hosts(ctx.session, [a["host"]], all_if_empty=False)
        return Table(("HOST", "CHANGE"), sync_hosts(ctx.session, hosts, dry_run=bool(a["dry_run"])))
