"""`cairn pause|resume|save|restore host vm`, made from one description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command, Example, Param, Table
from cairn.commands._lifecycle import PARALLEL, on_vms
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
            from cairn.lifecycle import verbs

            return on_vms(
                ctx,
                a["host"],
                lambda vms, conns: verbs.run(
                    ctx.session,
                    verb,
                    vms,
                    conns,
                    file=a.get("file"),
                    parallel=a["parallel"],
                    progress=ctx.progress,
                ),
            )

    Verb.__doc__ = doc
    return Verb
