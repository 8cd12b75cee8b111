"""`cairn resume ...`."""
