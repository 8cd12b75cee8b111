"""Disk SPECs (`TYPE:PATH,DEVICE,BUS`) and the default disk of a VM.

Every path is also within reach (cairn.vms.reach): when a SPEC is parsed, when
the default disk is made, and whenever `volumes` hands disks to the container.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cairn.errors import CairnError
from cairn.vms.reach import reach

KINDS = ("file", "qcow2", "phy")
BUSES = ("virtio", "ide", "scsi", "sata")
PREFIX = {"virtio": "vd", "ide": "hd", "scsi": "sd", "sata": "sd"}
DEFAULT_SIZE_GB = 36
DEFAULT_DIR = "/var/lib/libvirt/images"
_DEVICE = re.compile(r"^(vd|hd|sd|xvd)[a-z]{1,2}$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+@%=:/-]*$")


class DiskSpecError(CairnError):
    pass


@dataclass(frozen=True)
class DiskSpec:
    kind: str
    path: str
    device: str
    bus: str

    def text(self) -> str:
        return f"{self.kind}:{self.path},{self.device},{self.bus}"


def check_path(path: str, what: str) -> str:
    """An absolute, normalised path of plain characters (it ends up in XML and libvirt)."""
    if not path.startswith("/") or posixpath.normpath(path) != path or "/../" in f"{path}/":
        raise DiskSpecError(f"{what} {path!r} must be an absolute, normalised path")
    if not _SAFE_PATH.fullmatch(path):
        raise DiskSpecError(
            f"{what} {path!r} has characters cairn does not accept in paths"
            " (use letters, digits and . _ + @ % = : / -)"
        )
    return path


def parse(spec: str) -> DiskSpec:
    """Parse `TYPE:PATH,DEVICE,BUS` (DEVICE and BUS may be left out)."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in KINDS:
        raise DiskSpecError(
            f"disk {spec!r}: write TYPE:PATH,DEVICE,BUS with TYPE one of {', '.join(KINDS)}"
            " (e.g. file:/var/lib/libvirt/images/vm.img,vda,virtio); spaces separate disks"
        )
    parts = rest.split(",")
    if len(parts) > 3:
        raise DiskSpecError(f"disk {spec!r}: too many commas; write TYPE:PATH,DEVICE,BUS")
    path = check_path(parts[0], f"disk {spec!r}: path")
    bus = parts[2] if len(parts) > 2 and parts[2] else "virtio"
    if bus not in BUSES:
        raise DiskSpecError(f"disk {spec!r}: bus {bus!r} is not one of {', '.join(BUSES)}")
    device = parts[1] if len(parts) > 1 and parts[1] else ""
    if device and not _DEVICE.fullmatch(device):
        raise DiskSpecError(f"disk {spec!r}: device {device!r} is not a name like vda, hda or sda")
    if kind == "phy" and not path.startswith("/dev/"):
        raise DiskSpecError(f"disk {spec!r}: a phy disk is a block device under /dev")
    reach().disk(kind, path, f"disk {spec!r}")
    return DiskSpec(kind, path, device, bus)


def assign_devices(specs: list[DiskSpec], notes: list[str] | None = None) -> list[DiskSpec]:
    """Fill in missing device names (vda, vdb, ... by bus). The device is an
    ordering hint (as Rocks documents it): a name that an earlier disk took
    gives the later disk the next free one, said in `notes`."""
    used = {s.device for s in specs if s.device}
    seen: set[str] = set()
    out = []
    for s in specs:
        device = s.device
        if not device or device in seen:
            prefix = PREFIX[s.bus]
            free = (f"{prefix}{c}" for c in "abcdefghijklmnopqrstuvwxyz")
            device = next((d for d in free if d not in used and d not in seen), "")
            if not device:
                raise DiskSpecError(f"no free {prefix}* device name is left for disk {s.path}")
            if s.device and notes is not None:
                notes.append(
                    f"disk {s.path}: device {s.device} is taken by an earlier disk; it is {device}"
                )
            used.add(device)
        seen.add(device)
        out.append(DiskSpec(s.kind, s.path, device, s.bus))
    return out


def default(directory: str, vm_name: str) -> DiskSpec:
    what = "disk directory (attribute kvm_disk_dir)"
    directory = reach().file(check_path(directory.rstrip("/") or "/", what), what)
    return DiskSpec("file", posixpath.join(directory, f"{vm_name}.vda"), "vda", "virtio")


def volumes(disks: Iterable[Any]) -> tuple[tuple[str, int, str], ...]:
    """(path, size GiB, libvirt volume format) of each disk cairn creates on a
    container: files and qcow2 images; `phy` devices exist already. A disk out
    of reach (a row written straight into the database) is an error: no volume
    is made, grown or deleted for it."""
    disks = list(disks)
    within = reach()
    for d in disks:
        within.disk(d.kind, d.path, f"disk {d.path}")
    return tuple(
        (d.path, d.size_gb, "qcow2" if d.kind == "qcow2" else "raw")
        for d in disks
        if d.kind != "phy"
    )
