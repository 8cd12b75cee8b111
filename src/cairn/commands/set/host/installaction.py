"""`cairn set host installaction` (Rocks' spelling of the installaction attribute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example
from cairn.cli.spec import Command as Base
from cairn.commands._words import HOST

if TYPE_CHECKING:
    from cairn.context import Context

ATTR = "installaction"


class Command(Base):
    """Names the boot action a host installs with (none: back to the default).

    It sets the host attribute installaction, as `cairn set host attr HOST
    installaction NAME` does, after checking that the boot action exists
    (cairn list bootaction). A VM whose installaction is `install vm frontend`
    and that is set to install (cairn set host boot HOST action=install) boots
    that action's kernel, as Rocks' virtual frontends did.
    """

    args = (
        HOST,
        Arg("action", "the boot action's name, or none", convert=values.action_name),
    )
    writes = True
    in_batch = True
    replayable = True
    examples = (
        Example(
            "cairn set host installaction compute-0-0 action=install",
            "compute-0-0 installs with the boot action install.",
        ),
        Example(
            "cairn set host installaction compute-0-1 'install vm frontend'",
            "compute-0-1 installs with Rocks' boot action for virtual frontends.",
        ),
    )
    related = ("set host boot", "list bootaction", "set host attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        from cairn import attrcheck
        from cairn.attrs import store
        from cairn.attrs.scopes import Scope
        from cairn.inventory import lookup
        from cairn.inventory.owners import owners

        if a["action"] != "none":
            lookup.check_action(ctx.session, a["action"])
        for owner in owners(ctx.session, Scope.HOST, [a["host"]], all_if_empty=False):
            if a["action"] != "none":
                attrcheck.put(ctx.session, owner, ATTR, a["action"], replace=True)
            elif store.get(ctx.session, owner, ATTR) is not None:
                store.remove(ctx.session, owner, ATTR)
