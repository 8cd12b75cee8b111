"""`cairn restore host vm`."""

from cairn.commands._verb import make

Command = make("restore")
