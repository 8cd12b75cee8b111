"""`cairn set host os`."""

from cairn.commands._hostfield import make

Command = make("os")
