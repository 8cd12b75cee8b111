"""Parameters that `add host vm` and `set host vm` share (set has no defaults)."""

from __future__ import annotations

from cairn import values
from cairn.cli.spec import Param

MEM = Param("mem", "memory in MB", convert=values.integer(16, 16 * 1024 * 1024), metavar="MB")
CPUS = Param("cpus", "virtual CPUs", convert=values.integer(1, 4096), metavar="N")
SLICE = Param("slice", "slot on the container", convert=values.integer(0, 9999), metavar="N")
DISK = Param("disk", "a disk TYPE:PATH,DEVICE,BUS (repeat for more)", many=True, metavar="SPEC")
DISKSIZE = Param(
    "disksize",
    "disk size in GB, one per disk",
    convert=values.integer(1, 1_000_000),
    many=True,
    metavar="GB",
)
