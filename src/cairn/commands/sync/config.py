"""`cairn sync config`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._netboot import DIR, FRONTEND, directory_of, frontend_of

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Writes the DHCP and PXE files from the database and (re)starts dnsmasq.

    Run it on the frontend (in its network namespace) after changing hosts,
    interfaces, networks or boots. Files that differ are written (see `cairn
    report host dhcpd`); dnsmasq is started, reloaded (new fixed leases) or
    restarted (a new dnsmasq.conf). It refuses, changing nothing, when dnsmasq
    rejects the configuration, when a dnsmasq cairn did not start runs it, or
    when another program holds the DHCP or TFTP port.
    """

    params = (FRONTEND, DIR)
    lists = True
    examples = (
        Example("cairn sync config dir=/tmp/cairn-netboot", "Writes the files there, serves them."),
    )
    related = ("report host dhcpd", "set host boot", "add bootaction")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from pathlib import Path

        from cairn.netboot import config, dnsmasq

        directory = directory_of(a)
        plan = config.gather(ctx.session, frontend_of(ctx.session, a))
        ctx.notes.extend(plan.notes)
        done = dnsmasq.apply(
            Path(directory), config.files(plan, directory), serve=bool(plan.served)
        )
        rows = [(name, "written") for name in done.written] or [("files", "unchanged")]
        return Table(("WHAT", "CHANGE"), [*rows, ("dnsmasq", done.service)])
