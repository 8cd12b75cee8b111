"""`cairn pause|resume|save|restore host vm`, made from one description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command, Example, Param, Table
from cairn.commands._lifecycle import PARALLEL, table
from cairn.commands._words import VMS

if TYPE_CHECKING:
    from cairn.context import Context

DOCS = {
    "pause": (
        "Pauses running VMs (they keep their memory).",
        "cairn pause host vm hosted-vm-0-0-0",
    ),
    "resume": ("Resumes paused VMs.", "cairn resume host vm hosted-vm-0-0-0"),
    "save": (
        "Saves VMs to disk and stops them (libvirt managed save, or file=).\n\n"
        "A saved VM keeps its allocation; start or restore brings it back.",
        "cairn save host vm hosted-vm-0-0-0",
    ),
    "restore": (
        "Restores saved VMs (from their managed-save image, or from file=).",
        "cairn restore host vm hosted-vm-0-0-0",
    ),
}


def make(verb: str) -> type[Command]:
    doc, sample = DOCS[verb]
    file_param = (Param("file", "an image file on the container (one VM)", metavar="PATH"),)

    class Verb(Command):
        args = (VMS,)
        params = (*(file_param if verb in ("save", "restore") else ()), PARALLEL)
        writes = True
        lists = True
        examples = (Example(sample, doc.splitlines()[0]),)
        related = ("start host vm", "stop host vm", "list host vm")

        def run(self, ctx: Context, a: dict[str, Any]) -> Table:
            from cairn.hypervisor.connections import Connections
            from cairn.lifecycle import verbs
            from cairn.vms.define import vms_for

            vms = vms_for(ctx.session, a["host"])
            with Connections() as conns:
                outcomes = verbs.run(
                    ctx.session,
                    verb,
                    vms,
                    conns,
                    file=a.get("file"),
                    parallel=a["parallel"],
                    progress=ctx.progress,
                )
            return table(outcomes)

    Verb.__doc__ = doc
    return Verb
