"""`cairn set host cpus|rack|rank|appliance|os HOST VALUE`, made from one description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Command, Example
from cairn.commands._words import HOST
from cairn.values import Converter

if TYPE_CHECKING:
    from cairn.context import Context

FIELDS: dict[str, tuple[Converter, str, str]] = {
    "cpus": (values.integer(1, 4096), "the number of CPUs", "16"),
    "rack": (values.integer(0, 99999), "the rack number", "1"),
    "rank": (values.integer(0, 99999), "the rank in the rack", "3"),
    "appliance": (values.label, "the appliance name", "vm-container"),
    "os": (values.label, "the OS name", "linux"),
}


def make(field: str) -> type[Command]:
    convert, says, sample = FIELDS[field]

    class SetField(Command):
        args = (HOST, Arg(field, says, convert=convert))
        writes = True
        in_batch = True
        replayable = True
        examples = (Example(f"cairn set host {field} compute-0-0 {sample}", f"Sets {says}."),)
        related = ("list host", "add host")

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            from cairn.inventory import hosts, lookup

            found = lookup.hosts(ctx.session, [a["host"]], all_if_empty=False)
            hosts.set_field(ctx.session, found, field, a[field])

    SetField.__doc__ = f"Sets {says} of hosts."
    return SetField
