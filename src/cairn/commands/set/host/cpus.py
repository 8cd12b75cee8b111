"""`cairn set host cpus`."""

from cairn.commands._hostfield import make

Command = make("cpus")
