"""`cairn container ...`: what runs on a VM container (no database)."""
