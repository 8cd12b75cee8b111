"""`cairn set host ...`."""
