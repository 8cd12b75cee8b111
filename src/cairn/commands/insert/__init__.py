"""`cairn insert ...`."""
