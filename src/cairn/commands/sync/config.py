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
    restarted (a new dnsmasq.conf). When no network has dhcp=yes nothing is
    written, and a dnsmasq cairn started is stopped.

    iPXE clients (QEMU's NIC firmware) are sent to cairn's boot HTTP server on
    the frontend's address on their network, port 4480: a script per MAC (in
    tftp/ipxe/) loads the kernel and initrd over HTTP, much faster than TFTP;
    other clients, and hosts whose boot arguments an iPXE script cannot hold,
    load pxelinux over TFTP. The server serves tftp/ read-only and listens on
    those addresses only.

    dir= is cairn's own directory: a missing one is made (mode 0755); an
    existing one may hold only cairn's files (dnsmasq.conf, dhcp-hosts, its
    pid, lease and log files) and tftp/ (where boot images go), and must be
    readable by all already (dnsmasq reads as nobody): cairn never changes an
    existing directory's mode. It refuses, changing nothing, when dir= is not
    such a directory, when dnsmasq rejects the configuration, when a dnsmasq
    cairn did not start runs it, or when another program holds the DHCP,
    TFTP or boot HTTP port.
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
            Path(directory),
            config.files(plan, directory),
            serve=bool(plan.served),
            http=[s.http for s in plan.served if s.http],
        )
        rows = [(name, "written") for name in done.written] or [("files", "unchanged")]
        return Table(("WHAT", "CHANGE"), [*rows, ("dnsmasq", done.service), ("http", done.http)])
