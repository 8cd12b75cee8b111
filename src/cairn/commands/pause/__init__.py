"""`cairn pause ...`."""
