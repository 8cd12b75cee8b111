"""`cairn add host interface`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example
from cairn.commands._iface import IFACE, IFACE_PARAMS, apply_fields
from cairn.commands._words import HOST
from cairn.errors import Conflict

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a network interface to a host."""

    args = (HOST, IFACE)
    params = IFACE_PARAMS
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn add host interface compute-0-0 eth1 mac=52:54:00:00:00:10"
            " ip=10.1.255.250 subnet=private",
            "Adds eth1 on the private network.",
        ),
    )
    related = ("list host interface", "set host interface", "remove host interface")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.db.models import Interface
        from cairn.inventory import lookup

        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            if any(i.name == a["iface"] for i in host.interfaces):
                raise Conflict(
                    f"host {host.name} has an interface {a['iface']} already;"
                    " use 'set host interface'"
                )
            iface = Interface(name=a["iface"])
            host.interfaces.append(iface)
            apply_fields(ctx.session, iface, a)
