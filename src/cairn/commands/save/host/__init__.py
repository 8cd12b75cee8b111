"""`cairn save host ...`."""
