"""What `container boot` and `container shutdown` share."""

from __future__ import annotations

from cairn.cli.spec import Param, Table

URI = Param("uri", "libvirt URI of this container's hypervisor", "qemu:///system", metavar="URI")
COLUMNS = ("VM", "ORDER", "ACTION", "RESULT")


def table(rows: list) -> Table:  # type: ignore[type-arg]
    return Table(COLUMNS, [r.row() for r in rows], status=1 if any(r.failed for r in rows) else 0)
