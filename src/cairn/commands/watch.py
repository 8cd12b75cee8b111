"""`cairn watch`: the service that disallocates VMs that stop on their own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Watches every VM container and disallocates VMs that stop on their own.

    Runs until interrupted (SIGINT or SIGTERM); run it as a service on the
    frontend. When a VM powers off, crashes or is destroyed outside cairn,
    its plugin_disallocate runs exactly once; a VM that was saved or migrated
    keeps its allocation. Lost containers are reconnected with backoff, and
    after each (re)connect VMs recorded as allocated that are neither running
    nor saved are released. Logs one line per action on stderr.
    """

    params = (
        Param(
            "refresh",
            "seconds between looks for new containers",
            60,
            values.integer(1, 86400),
            metavar="S",
        ),
        Param(
            "seconds",
            "stop after this many seconds (0: run until interrupted)",
            0,
            values.integer(0),
            metavar="S",
        ),
    )
    uses_db = False  # it keeps its own engine and a transaction per event
    examples = (
        Example("cairn watch seconds=1", "Watches for one second (as a service: no seconds=)."),
    )
    related = ("report watch", "stop host vm", "start host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        import logging
        import signal
        import sys
        import time

        from cairn.lifecycle.watch import Watcher

        logging.basicConfig(
            stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
        )
        watcher = Watcher(ctx.url, refresh=a["refresh"])
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: watcher.stopping.set())
        deadline = time.monotonic() + a["seconds"] if a["seconds"] else None
        watcher.run(until=(lambda: time.monotonic() >= deadline) if deadline else None)
