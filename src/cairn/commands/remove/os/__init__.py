"""`cairn remove os` (and, below, `cairn remove os attr`)."""

from cairn.cli.spec import Arg, Example
from cairn.commands._remove import RemoveNamed


class Command(RemoveNamed):
    """Removes an OS that no host uses, with its attributes."""

    args = (Arg("os", "OS names", many=True),)
    remover = "cairn.inventory.hosts:remove_os"
    examples = (Example("cairn remove os centos", "Removes the unused OS centos."),)
    related = ("add os", "list os", "set host os")
