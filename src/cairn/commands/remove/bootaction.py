"""`cairn remove bootaction`."""

from cairn.cli.spec import Arg, Example
from cairn.commands._remove import RemoveNamed


class Command(RemoveNamed):
    """Removes boot actions that no host boots install with."""

    args = (Arg("action", "boot action names", many=True),)
    remover = "cairn.netboot.actions:remove_action"
    examples = (Example("cairn remove bootaction rescue", "Removes the rescue boot action."),)
    related = ("add bootaction", "list bootaction")
