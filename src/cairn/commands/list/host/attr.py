"""`cairn list host attr`: every resolved attribute of hosts, with its source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Grouped, Param, Table
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
        from cairn.inventory.hostwords import host_facts

        hosts = host_facts(ctx.session, a["host"])
        rows = Grouped(_groups(ctx, hosts, a["attr"]))
        return Table(("HOST", "ATTR", "VALUE", "SOURCE"), rows)


def _groups(ctx: Context, hosts: list[Any], only: str | None) -> Iterator[tuple[str, list[Any]]]:
    """(host, its (name, value, source) rows), host after host, as they are
    resolved: streamed, never all held."""
    from cairn.attrs.resolve import each_resolved

    for host, found in each_resolved(ctx.session, hosts):
        yield host.name, found if only is None else [f for f in found if f[0] == only]
