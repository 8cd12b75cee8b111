"""`cairn set host rank`."""

from cairn.commands._hostfield import make

Command = make("rank")
