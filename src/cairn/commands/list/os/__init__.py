"""`cairn list os` (and `cairn list os attr`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the operating system names hosts can have."""

    lists = True
    examples = (Example("cairn list os", "Every OS."),)
    related = ("add os", "list os attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import OS

        return Table(
            ("OS",),
            [(n,) for n in ctx.session.execute(select(OS.name).order_by(OS.name)).scalars()],
        )
