"""`cairn set host interface mac` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("mac")
