"""`cairn list airboss log`: the Airboss's audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the requests the Airboss took from tenants, newest first.

    Every request is there, accepted or refused: when (UTC), the key's
    fingerprint (as `ssh-keygen -l` prints it; - for a request whose key
    could not be read), where it came from, the op, its target, the result
    and, for a refusal or a failed command, the reason. key= keeps one key's
    requests; limit= the newest N (0: all).
    """

    params = (
        Param("key", "only the requests of this key fingerprint (SHA256:...)", metavar="FP"),
        Param("limit", "the newest N requests (0: all)", 100, values.integer(0, 10_000_000),
              metavar="N"),
        Param("refused", "only the refused requests", False, values.boolean, metavar="BOOL"),
    )  # fmt: skip
    lists = True
    examples = (
        Example("cairn list airboss log", "The newest 100 requests."),
        Example("cairn list airboss log refused=yes limit=20", "The last 20 refused."),
        Example(
            "cairn list airboss log key=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "What one tenant key asked for.",
        ),
    )
    related = ("add host key", "list host key")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import select

        from cairn.db.models import AirbossAudit as Audit

        query = select(Audit).order_by(Audit.id.desc())
        if a["key"]:
            query = query.where(Audit.fingerprint == a["key"])
        if a["refused"]:
            query = query.where(Audit.result == "refused")
        if a["limit"]:
            query = query.limit(a["limit"])
        rows = [
            (
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.fingerprint or "-",
                r.source,
                r.op or "-",
                r.target or "-",
                r.result,
                r.reason or "",
            )
            for r in ctx.session.execute(query).scalars()
        ]
        return Table(("AT", "KEY", "SOURCE", "OP", "TARGET", "RESULT", "REASON"), rows)
