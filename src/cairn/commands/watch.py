"""`cairn watch`: the cairn service, which also disallocates VMs that stop on their own.

The `cairn` client runs the service itself (cairn.service); this command's
`run` is the watcher alone, what `cairn watch` does with CAIRN_SERVICE=off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Runs the cairn service: serves the command line and watches every VM container.

    Runs until interrupted (SIGINT or SIGTERM); run it as a service on the
    frontend (see `cairn report watch`). Every `cairn` command is sent to the
    service for its database over a Unix socket that only root and the
    service's owner can use, and the first `cairn` command starts one when
    none runs (with idle=300: it stops after five minutes without a client).
    `cairn watch` takes over from a service of yours already on the socket
    (one started on demand, or of another cairn version) once that one has
    finished the commands it runs.
    Any service ends when its database is gone, and one with an idle time
    also when its database is not there (a URL its command refused). The same
    socket answers HTTP with a JSON API, described at /openapi.json.
    With CAIRN_SERVICE=off commands run in their own process and
    `cairn watch` only watches. When a VM powers off, crashes or is destroyed outside cairn,
    its plugin_disallocate runs exactly once; a VM that was saved or migrated
    keeps its allocation. Lost containers are reconnected with backoff, and
    after each (re)connect VMs recorded as allocated that are neither running
    nor saved are released. A container unreachable for its kvm_ha_dead_after
    seconds is dead: once the fence plugin (watch/plugin_fence.py, loaded when
    this starts) confirms it off, its VMs are disallocated once and those with
    kvm_ha are started on other containers; without that, nothing is restarted
    and `list host vm status=yes` says why. Logs one line per action on stderr.
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
            "idle",
            "stop after this many seconds without a client (0: never)",
            0,
            values.integer(0),
            metavar="S",
        ),
        Param("watch", "watch the VM containers", True, values.boolean, metavar="BOOL"),
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
        Example("cairn watch seconds=1", "Serves for one second (as a service: no seconds=)."),
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
