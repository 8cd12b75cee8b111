"""`cairn report host vm ...`."""
