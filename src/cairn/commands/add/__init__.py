"""`cairn add ...`: add things."""
