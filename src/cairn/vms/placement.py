"""Where VMs go: the container with the most free memory that fits them.

The example plugin_allocate and `add cluster` share this rule, so a virtual
cluster is spread the way starts are allocated. Capacity of a container, in MB:
its resolved attribute `kvm_memory_mb`, or 2048 MB per CPU (one default-sized
VM per core). Used: the memory of the VMs allocated there (running or saved).
On a tie the VM stays where it is, otherwise the first by name wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host
from cairn.errors import CairnError
from cairn.inventory.reach import vm_capable

MB_PER_CPU = 2048


def capacity(host: Host, attrs: Mapping[str, str]) -> int:
    given = attrs.get("kvm_memory_mb")
    if given is None:
        return host.cpus * MB_PER_CPU
    try:
        return int(given)
    except ValueError:
        raise CairnError(
            f"attribute kvm_memory_mb of {host.name} is {given!r}, not a number of MB;"
            f" fix it with 'cairn set host attr {host.name} kvm_memory_mb 65536'"
        ) from None


def used_memory(session: Session, *, exclude: int | None = None) -> dict[int, int]:
    """{container id: MB of the VMs allocated there (but VM `exclude`)}, in one query."""
    stmt = select(VM.container_id, func.sum(VM.memory_mb)).where(VM.allocated.is_(True))
    if exclude is not None:
        stmt = stmt.where(VM.id != exclude)
    rows = session.execute(stmt.group_by(VM.container_id)).all()
    return {container_id: int(mb) for container_id, mb in rows}


def choose(
    containers: Iterable[Host], free: Mapping[int, int], need: int, *, current: int | None = None
) -> Host | None:
    """The container with the most free memory that fits `need` MB; None if none does."""
    fits = [c for c in containers if free[c.id] >= need]
    if not fits:
        return None
    return min(fits, key=lambda c: (-free[c.id], c.id != current, c.name))


__all__ = ["MB_PER_CPU", "capacity", "choose", "used_memory", "vm_capable"]
