"""`cairn remove os ...`."""
