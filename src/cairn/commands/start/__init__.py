"""`cairn start ...`."""
