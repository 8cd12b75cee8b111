"""`cairn report host ...`."""
