"""`cairn remove network`."""

from cairn.cli.spec import Arg, Example
from cairn.commands._remove import RemoveNamed


class Command(RemoveNamed):
    """Removes networks that no interface is on and that carry no other network."""

    args = (Arg("network", "network names", many=True),)
    remover = "cairn.inventory.networks:remove_network"
    examples = (Example("cairn remove network storage", "Removes the storage network."),)
    related = ("add network", "list network")
