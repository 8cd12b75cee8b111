"""`cairn remove ...`: remove things."""
