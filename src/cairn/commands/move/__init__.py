"""`cairn move ...`."""
