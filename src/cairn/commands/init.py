"""`cairn init`: create or upgrade the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Text

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Creates the database, or upgrades it to this cairn's schema.

    Any command does this on first use of the embedded SQLite database; use
    init for PostgreSQL or MariaDB, or to upgrade at a time of your choosing.
    A new database gets the default appliances (frontend, compute,
    vm-container, hosted-vm), cpu_mode=host-passthrough and this machine as a
    frontend host, unless defaults=no (for replaying a 'cairn dump').
    """

    params = (
        Param(
            "defaults",
            "seed a new database with the defaults",
            True,
            values.boolean,
            metavar="BOOL",
        ),
    )
    uses_db = False
    examples = (Example("cairn init", "Creates or upgrades the database CAIRN_DB_URL names."),)
    related = ("dump",)

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.db.engine import make_engine
        from cairn.db.head import HEAD
        from cairn.db.schema import ensure_current
        from cairn.db.url import redacted

        engine = make_engine(ctx.url, writes=True)
        try:
            created = ensure_current(engine, seed_defaults=a["defaults"])
        finally:
            engine.dispose()
        state = "created" if created else "ready"
        return Text(f"{redacted(ctx.url)}: {state}, schema {HEAD}\n")
