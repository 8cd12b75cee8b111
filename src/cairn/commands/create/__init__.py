"""`cairn create ...`: make what other commands need (Rocks: rocks create keys)."""
