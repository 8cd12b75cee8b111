"""`cairn add bootaction`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Adds a boot action: the kernel, ramdisk and arguments PXE serves to install.

    Paths are relative to the TFTP root of `cairn sync config` (DIR/tftp). A
    host set to `install` (cairn set host boot) gets the boot action its
    attribute installaction names (default: install); `os` boots its own disk.
    """

    args = (Arg("action", "the boot action name", convert=values.action_name),)
    params = (
        Param("kernel", "the kernel, under the TFTP root", required=True, metavar="PATH"),
        Param("ramdisk", "the initrd, under the TFTP root", metavar="PATH"),
        Param("args", "the kernel command line", metavar="TEXT"),
    )
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn add bootaction install kernel=vmlinuz ramdisk=initrd.img"
            " args='console=ttyS0 ks=http://10.1.1.1/ks.cfg'",
            "Adds the install boot action.",
        ),
    )
    related = ("list bootaction", "remove bootaction", "set host boot", "sync config")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.netboot import actions

        actions.add_action(ctx.session, a["action"], a["kernel"], a["ramdisk"], a["args"])
