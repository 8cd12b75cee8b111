"""`cairn report host vlan`: Rocks' name for `sync host network ... dry-run=yes`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists what `cairn sync host vlan` would change on a host, changing nothing.

    Rocks 6.2 printed the commands that start a container's VLAN devices;
    cairn lists the changes `cairn sync host network HOST dry-run=yes` would
    make (VLAN devices, and the bridges and VXLAN devices beside them), on
    the VM's container when HOST is a VM.
    """

    args = (HOST,)
    lists = True
    examples = (Example("cairn report host vlan compute-0-1", "What a sync would change there."),)
    related = ("sync host vlan", "sync host network")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.commands.sync.host.vlan import containers_of
        from cairn.container.netsync import sync_hosts

        hosts = containers_of(ctx, a["host"])
        return Table(("HOST", "CHANGE"), sync_hosts(ctx.session, hosts, dry_run=True))
