"""`cairn remove appliance`."""

from cairn.cli.spec import Arg, Example
from cairn.commands._remove import RemoveNamed


class Command(RemoveNamed):
    """Removes an appliance that no host uses, with its attributes."""

    args = (Arg("appliance", "appliance names", many=True),)
    remover = "cairn.inventory.hosts:remove_appliance"
    examples = (Example("cairn remove appliance login", "Removes the unused appliance login."),)
    related = ("add appliance", "list appliance")
