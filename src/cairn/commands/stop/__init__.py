"""`cairn stop ...`."""
