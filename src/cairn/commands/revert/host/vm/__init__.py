"""`cairn revert host vm ...`."""
