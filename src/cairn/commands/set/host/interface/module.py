"""`cairn set host interface module` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("module")
