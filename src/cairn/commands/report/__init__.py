"""`cairn report ...`: reports."""
