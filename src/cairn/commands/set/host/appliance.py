"""`cairn set host appliance`."""

from cairn.commands._hostfield import make

Command = make("appliance")
