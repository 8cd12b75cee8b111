"""Parameters that `add host vm` and `set host vm` share (set has no defaults)."""

from __future__ import annotations

from cairn import values
from cairn.cli.spec import Param

MEM = Param("mem", "memory in MB", convert=values.integer(16, 16 * 1024 * 1024), metavar="MB")
CPUS = Param("cpus", "virtual CPUs", convert=values.integer(1, 4096), metavar="N")
SLICE = Param("slice", "slot on the container", convert=values.integer(0, 9999), metavar="N")
DISK = Param(
    "disk",
    "a disk TYPE:PATH,DEVICE,BUS; several: repeat disk=, or separate them by spaces as Rocks did",
    many=True,
    spaced=True,
    metavar="SPEC",
)
DISKSIZE = Param(
    "disksize",
    "disk size in GB, one per disk, in disk= order (repeat, or '67 28')",
    convert=values.integer(1, 1_000_000),
    many=True,
    spaced=True,
    metavar="GB",
)


def virt_type(word: str) -> str | None:
    """hvm; Rocks' dumps may say None (unset), which means the same here."""
    low = word.strip().lower()
    if low == "none":
        return None
    if low == "para":
        raise ValueError("KVM runs hvm guests only (para was Xen's)")
    return values.choice("hvm")(word)  # type: ignore[return-value]


VIRT_TYPE = Param("virt-type", "virtualization type (KVM: hvm)", convert=virt_type, metavar="hvm")
UUID = Param("uuid", "the domain UUID (default: a new one; dump gives it)", metavar="UUID")
