"""`cairn list host interface`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists host interfaces: MAC, IP, network, VLAN, name, module, disablekvm.

    NAME is the host's name on that interface (Rocks' name column); DISABLEKVM
    yes means the interface is kept here but left out of the VM's domain.
    """

    args = (HOSTS,)
    lists = True
    examples = (Example("cairn list host interface compute-0-0", "The interfaces of one host."),)
    related = ("add host interface", "list network")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import Interface
        from cairn.inventory import lookup

        hosts = lookup.hosts(ctx.session, a["host"])
        stmt = select(Interface).order_by(Interface.name)
        if a["host"]:
            stmt = stmt.where(Interface.host_id.in_([h.id for h in hosts]))
        by_host: dict[int, list[Interface]] = {}
        for i in ctx.session.execute(stmt).scalars():
            by_host.setdefault(i.host_id, []).append(i)
        rows = [
            (
                h.name,
                i.name,
                i.mac,
                i.ip,
                i.network.name if i.network else None,
                i.vlan,
                i.hostname,
                i.module,
                i.disablekvm,
            )
            for h in hosts
            for i in by_host.get(h.id, [])
        ]
        columns = ("HOST", "IFACE", "MAC", "IP", "SUBNET", "VLAN", "NAME", "MODULE", "DISABLEKVM")
        return Table(columns, rows)
