"""`cairn set host rack`."""

from cairn.commands._hostfield import make

Command = make("rack")
