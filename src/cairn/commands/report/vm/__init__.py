"""`cairn report vm ...`: reports about VMs to come (Rocks' spelling)."""
