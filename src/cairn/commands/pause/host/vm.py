"""`cairn pause host vm`."""

from cairn.commands._verb import make

Command = make("pause")
