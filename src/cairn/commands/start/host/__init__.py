"""`cairn start host ...`."""
