"""`cairn remove host key`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param
from cairn.commands._hostkey import FRONTEND

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Unbinds a tenant key from a virtual cluster's frontend.

    id= is the key's id in `cairn list host key`. Its holder's next request
    to the Airboss is refused; a console it has open stays until it closes.
    """

    args = (FRONTEND,)
    params = (
        Param("id", "the key's id (see: cairn list host key)", None, values.integer(1),
              required=True, metavar="N"),
    )  # fmt: skip
    writes = True
    in_batch = True
    replayable = True
    examples = (Example("cairn remove host key lab id=1", "Unbinds key 1 from cluster lab."),)
    related = ("list host key", "add host key")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn.vms import tenantkeys

        tenantkeys.unbind(ctx.session, tenantkeys.frontend(ctx.session, a["frontend"]), a["id"])
