"""`cairn resume host ...`."""
