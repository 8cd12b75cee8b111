"""`cairn revert ...`."""
