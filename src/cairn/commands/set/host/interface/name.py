"""`cairn set host interface name` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("name")
