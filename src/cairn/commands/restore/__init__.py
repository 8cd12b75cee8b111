"""`cairn restore ...`."""
