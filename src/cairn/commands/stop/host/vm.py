"""`cairn stop host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._lifecycle import PARALLEL, on_vms, stopping
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Stops VMs: poweroff (default), ACPI shutdown, reset or reboot.

    poweroff and shutdown turn the VM off, clear its libvirt autostart flag
    (a VM you stopped stays off when its container restarts), then run
    plugin_disallocate exactly once. shutdown waits timeout= seconds for the
    guest, then reports that it did not stop. terminate=yes only runs the
    disallocate step, for a VM known to be off. reset and reboot keep it
    running and release nothing. A VM set to install (`cairn set host power
    HOST action=install`), whose reboot ends its domain, is powered off and
    started again by both instead ("restarted"): it installs again, stays
    allocated and keeps its boot action install.
    """

    args = (VMS,)
    params = (
        Param(
            "action",
            "poweroff, shutdown, reset or reboot",
            "poweroff",
            values.choice("poweroff", "shutdown", "reset", "reboot"),
            metavar="ACTION",
        ),
        Param("terminate", "only run the disallocate step", False, values.boolean, metavar="BOOL"),
        Param(
            "timeout",
            "seconds to wait for an ACPI shutdown",
            120,
            values.integer(1, 86400),
            metavar="S",
        ),
        PARALLEL,
    )
    writes = True
    lists = True
    examples = (
        Example("cairn stop host vm hosted-vm-0-0-0", "Powers the VM off and releases it."),
        Example(
            "cairn stop host vm hosted-vm-0-0-0 action=shutdown timeout=60",
            "Asks the guest to shut down.",
        ),
    )
    related = ("start host vm", "list host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        return on_vms(ctx, a["host"], stopping(ctx, a))
