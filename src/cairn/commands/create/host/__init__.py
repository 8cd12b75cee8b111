"""`cairn create host ...`."""
