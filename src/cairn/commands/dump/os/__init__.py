"""`cairn dump os ...`."""
