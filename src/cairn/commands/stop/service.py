"""`cairn stop service`: stop the cairn service of this caller's database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Stops the cairn service of this database (the next command starts one).

    The service is the resident process behind the `cairn` command (see
    `cairn watch`): one per database and caller's setup. It takes no new
    command and finishes every one it is running, however long, then exits;
    this waits for that. One started on demand stops by itself after five
    idle minutes, and any ends when its database is gone. Only root and the
    user it runs as (the database's owner) may stop it: anyone else is
    refused. No service running is not an error. For the service systemd
    runs (`cairn report watch`), use `systemctl stop cairn-watch`: this
    stops it too, but systemd will not know why.
    """

    uses_db = False
    examples = (Example("cairn stop service", "Stops this database's cairn service, if one runs."),)
    related = ("report service", "watch")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.service.control import mine, stop

        path, met = mine()
        if met is None:
            return Text(f"no cairn service runs on {path}\n")
        stop(met.chan)
        return Text(f"stopped the cairn service (pid {met.pid}) on {path}\n")
