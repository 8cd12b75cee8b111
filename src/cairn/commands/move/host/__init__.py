"""`cairn move host ...`."""
