"""`cairn report service`: whether this database's cairn service runs, and which."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Reports the cairn service of this database: its socket, pid, owner and version.

    STATE is `running` (this cairn's version), `other-version` (the next
    command restarts it when you own it) or `stopped` (the next command
    starts one). Asking starts nothing.
    """

    uses_db = False
    lists = True
    examples = (Example("cairn report service", "Says whether this database's service runs."),)
    related = ("stop service", "watch")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.service.address import version
        from cairn.service.control import mine

        path, met = mine()
        columns = ("SOCKET", "STATE", "PID", "UID", "VERSION")
        if met is None:
            return Table(columns, [(path, "stopped", None, None, None)])
        met.chan.close()
        state = "running" if met.version == version() else "other-version"
        return Table(columns, [(path, state, met.pid, met.owner, met.version)])
