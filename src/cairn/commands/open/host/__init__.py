"""`cairn open host ...`."""
