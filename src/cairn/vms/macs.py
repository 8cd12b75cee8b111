"""MAC addresses for VMs: unique across the cluster, from a locally administered range.

The range is the resolved attribute `vm_mac_base_addr` (default 52:54:00:00:00:00,
QEMU's locally administered prefix) under `vm_mac_base_addr_mask`
(default ff:ff:ff:00:00:00).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import Interface
from cairn.errors import CairnError

DEFAULT_BASE = "52:54:00:00:00:00"
DEFAULT_MASK = "ff:ff:ff:00:00:00"


def check_base(base: str, what: str = "vm_mac_base_addr") -> None:
    """A base address VMs' MACs can start from: not multicast (the low bit of its first byte)."""
    if _int(base) >> 40 & 0x01:
        raise CairnError(f"{what}: {base} is a multicast address; use e.g. {DEFAULT_BASE}")


def check_mask(mask: str, what: str = "vm_mac_base_addr_mask") -> None:
    """A mask that keeps the first byte of the base (so every MAC stays unicast and
    locally administered, as the base is) and leaves addresses to give: a run of
    8 to 47 leading one bits."""
    ones = bin(_int(mask)).count("1")
    if _int(mask) != (0xFFFFFFFFFFFF << (48 - ones)) & 0xFFFFFFFFFFFF or not 8 <= ones <= 47:
        raise CairnError(
            f"{what}: {mask} must be 8 to 47 leading one bits (it keeps at least the base's"
            f" first byte and leaves addresses for VMs); use e.g. {DEFAULT_MASK}"
        )


def _int(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def _mac(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def allocate(
    session: Session,
    count: int,
    base: str = DEFAULT_BASE,
    mask: str = DEFAULT_MASK,
    taken: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """`count` MACs in the range that no interface (nor `taken`) uses yet, lowest
    first, under the allocation lock (they are about to be taken)."""
    from cairn.db import locks

    locks.allocation(session)
    return free(session, count, base, mask, taken)


def free(
    session: Session,
    count: int,
    base: str = DEFAULT_BASE,
    mask: str = DEFAULT_MASK,
    taken: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """The MACs `allocate` would give now, taking none."""
    try:
        lo, m = _int(base), _int(mask)
    except ValueError:
        raise CairnError(
            f"vm_mac_base_addr {base!r} / mask {mask!r} are not MAC addresses"
        ) from None
    check_base(base)
    lo &= m
    hi = lo | (~m & 0xFFFFFFFFFFFF)
    stored = session.execute(select(Interface.mac).where(Interface.mac.is_not(None))).scalars()
    used = {_int(v) for v in stored if v} | {_int(v) for v in taken}
    in_range = [u for u in used if lo < u <= hi]
    if hi - lo - len(in_range) < count:
        raise CairnError(f"no {count} free MAC addresses left under {base}/{mask}")
    out: list[str] = []
    candidate = max(in_range, default=lo) + 1
    while len(out) < count:
        if candidate > hi:
            candidate = lo + 1  # wrap around and fill the holes
        if candidate in used:
            candidate += 1
            continue
        out.append(_mac(candidate))
        used.add(candidate)
        candidate += 1
    return out
