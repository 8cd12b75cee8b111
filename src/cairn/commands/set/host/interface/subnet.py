"""`cairn set host interface subnet` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("subnet")
