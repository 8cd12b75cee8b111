"""`cairn dump host ...`."""
