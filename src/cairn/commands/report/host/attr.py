"""`cairn report host attr`: resolved attribute values exactly as given."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base
from cairn.errors import NotFound, UsageError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints a host's resolved attributes with their original (unescaped) values.

    With attr=NAME it prints that one value exactly as it was set, followed by
    a newline, for scripts: `v=$(cairn report host attr h attr=kvm_device_0)`.
    Without, it prints `name: value` lines.
    """

    args = (Arg("host", "one host name or localhost"),)
    params = (
        Param(
            "attr", "print only this attribute's value", convert=values.attr_name, metavar="NAME"
        ),
    )
    examples = (
        Example("cairn report host attr compute-0-0 attr=cpu_mode", "Prints host-passthrough."),
    )
    related = ("list host attr", "set host attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.attrs.escape import unescape
        from cairn.attrs.resolve import resolve_facts
        from cairn.inventory.hostwords import host_facts

        hosts = host_facts(ctx.session, [a["host"]])
        if len(hosts) > 1:  # the values alone would not say whose they are
            listing = shlex.join(["cairn", "list", "host", "attr", a["host"]])
            if a["attr"] is not None:
                listing += f" attr={a['attr']}"
            raise UsageError(
                f"{a['host']!r} names {len(hosts)} hosts; report one host at a time,"
                f" or list them with: {listing}"
            )
        resolved = resolve_facts(ctx.session, hosts)
        out = []
        for host in hosts:
            attrs = resolved[host.id]
            if a["attr"] is not None:
                if a["attr"] not in attrs:
                    raise NotFound(
                        f"host {host.name} has no attribute {a['attr']}"
                        f" (see: cairn list host attr {host.name})"
                    )
                out.append(unescape(attrs[a["attr"]].value) + "\n")
            else:
                out.extend(f"{n}: {unescape(r.value)}\n" for n, r in attrs.items())
        return Text("".join(out))
