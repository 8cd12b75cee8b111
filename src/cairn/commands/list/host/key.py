"""`cairn list host key`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base
from cairn.commands._hostkey import COLUMNS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the tenant keys bound to virtual clusters' frontends.

    One line per key: the frontend, the key's id (for `remove host key`), its
    algorithm, its fingerprint as `ssh-keygen -l` prints it, and its comment.
    """

    args = (Arg("frontend", "a cluster's frontend VM (default: every one)", required=False),)
    lists = True
    examples = (
        Example("cairn list host key", "Every tenant key."),
        Example("cairn list host key lab", "The keys bound to cluster lab."),
    )
    related = ("add host key", "remove host key")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.vms import tenantkeys

        host = tenantkeys.frontend(ctx.session, a["frontend"]) if a["frontend"] else None
        rows = [
            (h.name, k.id, k.algorithm, k.fingerprint, k.comment or "")
            for h, k in tenantkeys.listed(ctx.session, host)
        ]
        return Table(COLUMNS, rows)
