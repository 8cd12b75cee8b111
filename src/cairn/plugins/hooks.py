"""The hooks cairn calls, and what each receives (keyword arguments only).

report/host/vm/config/plugin_<section>.py  (section: bootloader, cpumem, disk,
    interface, device, global)
    run(elements: list[lxml Element], vm: VMView) -> list[Element] | None
    Gets the elements of its section of the domain XML (bootloader: [<os>];
    cpumem: <memory>, <vcpu>, <cpu>, <cputune>...; disk: the <disk>s;
    interface: the <interface>s; device: the other <devices> children;
    global: [<domain>]) and returns them changed, or None to keep them.
    The result is checked against libvirt's schema.

start/host/vm/plugin_allocate.py, start/host/vm/plugin_preboot.py,
stop/host/vm/plugin_disallocate.py: see cairn.lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SECTIONS = ("bootloader", "cpumem", "disk", "interface", "device", "global")


@dataclass(frozen=True)
class VMView:
    """What a plugin may read about a VM; changes go through its return value."""

    name: str
    uuid: str
    container: str
    slice: int
    memory_mb: int
    cpus: int
    cdrom: str | None
    attrs: Mapping[str, str]  # resolved, original (unescaped) values
