"""`cairn list bootaction`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists boot actions: kernel, ramdisk and arguments."""

    lists = True
    examples = (Example("cairn list bootaction", "Every boot action."),)
    related = ("add bootaction", "set host boot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import BootAction

        found = ctx.session.execute(select(BootAction).order_by(BootAction.name)).scalars()
        return Table(
            ("ACTION", "KERNEL", "RAMDISK", "ARGS"),
            [(b.name, b.kernel, b.ramdisk, b.args) for b in found],
        )
