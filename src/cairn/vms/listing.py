"""The table `list host vm` prints, from plain facts (no SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.db.rows import Rows
from cairn.vms.facts import VMFacts, disks, macs


def table(
    rows: Rows, vms: Sequence[VMFacts], *, showdisks: bool, states: dict[int, str] | None
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Columns and rows; `states` (VM id: live state) adds a STATUS column."""
    columns: tuple[str, ...] = ("VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "CONTAINER", "CDROM")
    if states is not None:
        columns = (*columns, "STATUS")
    if showdisks:
        columns = (*columns, "DISKS")
    first_macs = macs(rows, vms)
    held = disks(rows, vms) if showdisks else {}
    out = []
    for vm in vms:
        mine = first_macs.get(vm.host.id)
        row: list[Any] = [
            vm.host.name,
            vm.slice,
            vm.memory_mb,
            vm.host.cpus,
            mine[0] if mine else None,
            vm.container,
            vm.cdrom,
        ]
        if states is not None:
            row.append(states.get(vm.id, "unknown"))
        if showdisks:
            row.append(" ".join(held.get(vm.id, [])))
        out.append(tuple(row))
    return columns, out
