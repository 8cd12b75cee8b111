"""`cairn set host interface disablekvm` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("disablekvm")
