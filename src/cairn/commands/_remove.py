"""What `remove appliance|bootaction|network|os` share: each removes the rows it
names, one at a time, through the function of a lower package that says why a
row may not go. A command keeps its own help, argument and that function."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from cairn.cli.spec import Command

if TYPE_CHECKING:
    from cairn.context import Context


class RemoveNamed(Command):
    """Removes named rows (a base: each command says which)."""

    # "module:function", called as function(session, name); imported when the
    # command runs, so that help imports no database code.
    remover: ClassVar[str]
    writes = True
    in_batch = True
    replayable = True

    def run(self, ctx: Context, a: dict[str, Any]) -> None:
        module, _, function = self.remover.partition(":")
        remove = getattr(import_module(module), function)
        for name in a[self.args[0].name]:
            remove(ctx.session, name)
