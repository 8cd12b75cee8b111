"""`cairn set ...`: change things."""
