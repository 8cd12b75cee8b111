"""`cairn restore host ...`."""
