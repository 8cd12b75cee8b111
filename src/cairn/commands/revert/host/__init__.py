"""`cairn revert host ...`."""
