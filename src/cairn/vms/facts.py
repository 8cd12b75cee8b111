"""Which VMs a command's HOST words name, and what `list host vm` shows of
them, as plain facts read with plain SQL.

Free of SQLAlchemy (see `cairn.db.rows`), so `list host vm` starts as fast as
`list host`; `define.vms_for` turns the same answer into mapped rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from cairn.db.rows import MANY, Rows, placeholders
from cairn.errors import NotFound
from cairn.inventory.hostwords import HostFacts, host_facts

# Every query here selects the id it is filtered on first.
_VMS = (
    "SELECT v.host_id, v.id, v.slice, v.memory_mb, v.container_id, c.name, v.cdrom"
    " FROM vms v JOIN hosts c ON c.id = v.container_id"
)
_MACS = "SELECT host_id, name, mac FROM interfaces WHERE mac IS NOT NULL"
_DISKS = "SELECT vm_id, position, kind, path, device, bus, size_gb FROM vm_disks"


class VMFacts(NamedTuple):
    id: int
    host: HostFacts
    slice: int
    memory_mb: int
    container_id: int
    container: str
    cdrom: str | None


def natural(name: str) -> tuple[str, int, str]:
    """eth2 < eth10: the trailing number compares as a number. The name itself
    breaks ties (eth1, eth01), so the order never depends on the database's."""
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    return head, int(tail) if tail else -1, name


def _where_in(rows: Rows, sql: str, column: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows whose first column (`column`) is one of ids. Above MANY ids,
    all rows, filtered here: long IN lists hit the drivers' limits."""
    if not ids:
        return []  # `IN ()` is not SQL
    if len(ids) > MANY:
        wanted = set(ids)
        return [r for r in rows(sql, ()) if r[0] in wanted]
    joiner = " AND " if " WHERE " in sql else " WHERE "
    return rows(f"{sql}{joiner}{column} IN ({placeholders(len(ids))})", ids)


def vm_facts(rows: Rows, words: list[str], *, all_if_empty: bool = False) -> list[VMFacts]:
    """The VMs the words name, in host order. A word that is the exact name of
    a host that is not a VM is an error; globs and appliance names just pick
    the VMs among their hosts."""
    found = host_facts(rows, words, all_if_empty=all_if_empty)
    if not found:
        return []
    ids = [h.id for h in found]
    listed = _where_in(rows, _VMS, "v.host_id", ids) if words else rows(_VMS, ())
    by_host = {r[0]: r for r in listed}
    for h in found:
        if h.id not in by_host and h.name in words:
            raise NotFound(f"host {h.name} is not a virtual machine (see: cairn list host vm)")
    vms = [VMFacts(r[1], h, *r[2:]) for h in found if (r := by_host.get(h.id))]
    if words and not vms:
        raise NotFound(f"no virtual machine matches {' '.join(words)} (see: cairn list host vm)")
    return vms


def macs(rows: Rows, vms: Sequence[VMFacts]) -> dict[int, list[str]]:
    """{host id: its MACs, interfaces in natural order (eth2 before eth10)}."""
    found: dict[int, list[tuple[str, str]]] = {}
    for host_id, name, mac in _where_in(rows, _MACS, "host_id", [vm.host.id for vm in vms]):
        found.setdefault(host_id, []).append((name, mac))
    return {h: [mac for _, mac in sorted(n, key=lambda i: natural(i[0]))] for h, n in found.items()}


def disks(rows: Rows, vms: Sequence[VMFacts]) -> dict[int, list[tuple[str, int]]]:
    """{VM id: (TYPE:PATH,DEVICE,BUS, size in GB) of its disks, in order}."""
    found: dict[int, list[tuple[int, str, int]]] = {}
    for vm_id, position, kind, path, device, bus, size in _where_in(
        rows, _DISKS, "vm_id", [vm.id for vm in vms]
    ):
        found.setdefault(vm_id, []).append((position, f"{kind}:{path},{device},{bus}", size))
    return {v: [(text, size) for _, text, size in sorted(d)] for v, d in found.items()}
