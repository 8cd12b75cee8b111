"""`cairn open ...`."""
