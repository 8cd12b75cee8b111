"""`cairn stop host ...`."""
