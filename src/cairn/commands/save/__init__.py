"""`cairn save ...`."""
