"""`cairn set host interface` (and Rocks' one-field forms below it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example
from cairn.commands._iface import FIELDS, IFACE, IFACE_PARAMS, set_fields
from cairn.commands._words import HOST
from cairn.errors import UsageError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Changes fields of a host interface: MAC, IP, network, VLAN, name, module...

    Fields not given stay; none clears one. Rocks' one-field spelling works
    too: 'cairn set host interface ip HOST IFACE IP' (and mac, subnet, vlan,
    name, module, disablekvm).
    """

    args = (HOST, IFACE)
    params = IFACE_PARAMS
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn set host interface compute-0-0 eth0 ip=10.1.255.200", "Gives eth0 a new IP."
        ),
        Example(
            "cairn set host interface compute-0-0 eth0 vlan=none",
            "Takes eth0 off its VLAN.",
        ),
    )
    related = ("list host interface", "add host interface", "set host interface ip")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        if all(a[f] is None for f in FIELDS):
            raise UsageError(
                "'set host interface' changes nothing without one of: "
                + ", ".join(f"{f}=" for f in FIELDS)
                + " (see: cairn set host interface help)"
            )
        set_fields(ctx, a)
