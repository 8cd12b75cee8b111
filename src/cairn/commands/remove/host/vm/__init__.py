"""`cairn remove host vm ...`: a VM's disks and snapshots."""
