"""The table `list host vm` prints, from plain facts (`vms.facts`).

Laid out as Rocks laid it out: a VM's first row has its slice, memory, CPUs,
first MAC, container and CDROM; each further MAC (and, with showdisks, each
further disk) gets a row of its own under it, the VM's fields left as '-'.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from cairn.vms.facts import VMFacts, disks, macs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def real_size(found: Any, kind: str, defined_gb: int) -> str | None:
    """The REALSIZE of a disk: `8G`, `8G!` when not its defined size, `none`
    before it is made, `?` when the container cannot say; nothing for phy."""
    if kind == "phy":
        return None
    if found is None:
        return "none"
    if isinstance(found, str):
        return "?"
    gib = found / 1024**3
    shown = f"{gib:g}G" if gib == int(gib) else f"{gib:.2f}G"
    return shown if found == defined_gb * 1024**3 else f"{shown}!"


def table(
    session: Session,
    vms: Sequence[VMFacts],
    *,
    showdisks: bool,
    states: dict[int, str] | None,
    real: dict[int, dict[str, Any]] | None = None,
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Columns and rows; `states` (VM id: live state) adds a STATUS column,
    `real` ({VM id: {path: bytes, None or a word}}) a REALSIZE column."""
    columns: tuple[str, ...] = ("VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "CONTAINER", "CDROM")
    if states is not None:
        columns = (*columns, "STATUS")
    if showdisks:
        columns = (*columns, "DISK", "DISKSIZE", *(("REALSIZE",) if real is not None else ()))
    all_macs = macs(session, vms)
    held = disks(session, vms) if showdisks else {}
    out = []
    for vm in vms:
        mine: list[str | None] = list(all_macs.get(vm.host.id, [])) or [None]
        lines = list(zip_longest(mine, held.get(vm.id, [])))
        for i, (mac, disk) in enumerate(lines):
            first = i == 0
            row: list[Any] = [
                vm.host.name,
                vm.slice if first else None,
                vm.memory_mb if first else None,
                vm.host.cpus if first else None,
                mac,
                vm.container if first else None,
                vm.cdrom if first else None,
            ]
            if states is not None:
                row.append(states.get(vm.id, "unknown") if first else None)
            if showdisks:
                row += [disk[0], disk[1]] if disk else [None, None]
            if showdisks and real is not None:
                row.append(_real(real.get(vm.id, {}), disk))
            out.append(tuple(row))
    return columns, out


def _real(sizes: dict[str, Any], disk: tuple[str, int] | None) -> str | None:
    if disk is None:
        return None
    kind, _, rest = disk[0].partition(":")
    return real_size(sizes.get(rest.split(",")[0]), kind, disk[1])
