"""`cairn pause host ...`."""
