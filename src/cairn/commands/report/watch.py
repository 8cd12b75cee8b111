"""`cairn report watch`: the systemd unit that runs `cairn watch` on the frontend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Text

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints the systemd unit that runs `cairn watch` as a service on the frontend.

    The watcher disallocates VMs that stop on their own; it must run all the
    time, restarted if it fails. Save the output as
    /etc/systemd/system/cairn-watch.service, then `systemctl daemon-reload`
    and `systemctl enable --now cairn-watch.service`. The unit names the cairn
    executable running this command unless command= says otherwise. It holds
    no database URL (a unit file is world-readable): the service uses db_url
    from /etc/cairn/cairn.toml, else the embedded default.
    """

    params = (Param("command", "the cairn executable the unit runs", metavar="PATH"),)
    uses_db = False
    examples = (
        Example(
            "cairn report watch command=/usr/local/bin/cairn",
            "The unit, running /usr/local/bin/cairn watch.",
        ),
    )
    related = ("watch", "report host profile")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        import os

        from cairn.units import check_command, default_cairn_command, watch_unit

        cairn = check_command(
            a["command"] or default_cairn_command(), "command=", "command=/path/to/cairn"
        )
        if os.environ.get("CAIRN_DB_URL"):
            ctx.note(
                "CAIRN_DB_URL is set here but the service will not see it:"
                " put db_url in /etc/cairn/cairn.toml"
            )
        return Text(watch_unit(cairn) + "\n")
