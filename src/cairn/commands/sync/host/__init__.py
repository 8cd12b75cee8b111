"""`cairn sync host ...`."""
