"""`cairn list ...`: list things."""
