"""`cairn set host vm` (and `cairn set host vm cdrom`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param
from cairn.commands._vm import CPUS, DISK, DISKSIZE, MEM, SLICE
from cairn.commands._words import HOST
from cairn.errors import UsageError

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Changes VM definitions: container, memory, CPUs, disks, slice.

    Takes effect the next time the VM is started. disk= replaces all disks.
    """

    args = (HOST,)
    params = (
        Param("physnode", "move the definition to this container", metavar="CONTAINER"),
        MEM,
        CPUS,
        replace(DISK, help="a disk TYPE:PATH,DEVICE,BUS (repeat; replaces all)"),
        DISKSIZE,
        SLICE,
    )
    writes = True
    examples = (
        Example("cairn set host vm hosted-vm-0-0-0 mem=4096 cpus=2", "More memory and CPUs."),
        Example(
            "cairn set host vm hosted-vm-0-0-0 physnode=vm-container-0-1",
            "Runs it elsewhere next time.",
        ),
    )
    related = ("add host vm", "list host vm", "set host vm cdrom")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.inventory import lookup
        from cairn.vms.define import change, vm_of

        changes = ("physnode", "mem", "cpus", "disk", "disksize", "slice")
        if all(a[k] in (None, []) for k in changes):
            raise UsageError(
                "'set host vm' changes nothing without one of: "
                + ", ".join(f"{k}=" for k in changes)
                + " (see: cairn set host vm help)"
            )
        for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
            change(
                ctx.session,
                vm_of(ctx.session, host),
                physnode=a["physnode"],
                memory_mb=a["mem"],
                cpus=a["cpus"],
                disks=a["disk"],
                disksizes=a["disksize"],
                slice_=a["slice"],
            )
