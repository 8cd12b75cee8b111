"""`cairn set host interface vlan` (Rocks' spelling)."""

from cairn.commands._iface import field_command

Command = field_command("vlan")
