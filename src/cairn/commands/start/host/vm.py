"""`cairn start host vm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table
from cairn.commands._lifecycle import PARALLEL, on_vms, starting
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Starts VMs on their containers.

    For each VM: plugin_allocate (database writable; it may move the VM),
    plugin_preboot (database read-only; it may return the domain XML to use),
    missing disks created through libvirt's storage API, the domain defined
    and started, and its libvirt autostart flag set to match kvm_autostart.
    If a step after allocate fails, plugin_disallocate runs. A VM with a saved
    image resumes from it. Containers are worked on in parallel; the exit
    status is 1 if any VM failed.
    """

    args = (VMS,)
    params = (PARALLEL,)
    writes = True
    lists = True
    examples = (Example("cairn start host vm hosted-vm-0-0-0", "Starts one VM."),)
    related = ("stop host vm", "list host vm", "report host vm config", "set host vm cdrom")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        return on_vms(ctx, a["host"], starting(ctx, a))
