"""`cairn list host attr`: every resolved attribute of hosts, with its source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._words import HOSTS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the resolved attributes of hosts and where each comes from.

    The most specific scope wins: host (H) > appliance (A) > os (O) > global (G);
    intrinsic facts (I) such as rack and cpus are shown too. Values are shown
    XML-escaped as stored; 'report host attr' prints one exactly.
    """

    args = (HOSTS,)
    params = (Param("attr", "show only this attribute", metavar="NAME"),)
    lists = True
    examples = (
        Example("cairn list host attr compute-0-0", "All attributes of one host."),
        Example("cairn list host attr attr=kvm", "Which hosts may run VMs, and why."),
    )
    related = ("set host attr", "report host attr", "list attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.attrs.resolve import resolve_facts
        from cairn.inventory.hostwords import host_facts

        hosts = host_facts(ctx.rows, a["host"])
        resolved = resolve_facts(ctx.rows, hosts, all_hosts=not a["host"])
        only = a["attr"]
        rows = []
        for host in hosts:
            hostname = host.name
            items = resolved[host.id]
            if only is None:
                rows.extend([(hostname, name, r.value, r.source) for name, r in items.items()])
            elif only in items:
                rows.append((hostname, only, items[only].value, items[only].source))
        return Table(("HOST", "ATTR", "VALUE", "SOURCE"), rows)
