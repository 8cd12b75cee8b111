"""`cairn sync ...`."""
