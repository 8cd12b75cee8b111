"""`cairn set host interface ip` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("ip")
