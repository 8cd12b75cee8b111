"""`cairn create host vm`: Rocks' name for `cairn start host vm`."""

from __future__ import annotations

from cairn.cli.spec import Example
from cairn.commands.start.host.vm import Command as Start


class Command(Start):
    """Rocks' name for `cairn start host vm`: defines a VM slice and starts it.

    Rocks 6.2's `create host vm` configured a VM on its container and
    installed it by starting it; cairn defines the domain on every start, so
    this is `cairn start host vm` under its Rocks name (same arguments, same
    output). A VM set to install (cairn set host boot HOST action=install)
    installs on that start.
    """

    examples = (Example("cairn create host vm hosted-vm-0-0-0", "Starts (installs) one VM."),)
    related = ("start host vm", "set host boot", "add host vm", "report host vm config")
