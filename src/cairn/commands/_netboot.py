"""What `report host dhcpd` and `sync config` share: the frontend and the directory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Param

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_DIR = "/var/lib/cairn/netboot"
DIR = Param(
    "dir",
    f"where the files go (default {DEFAULT_DIR}): a new directory, or one that holds only"
    " cairn's files and tftp/; cairn never changes an existing directory's mode",
    metavar="PATH",
)
FRONTEND = Param("frontend", "the host dnsmasq runs on (default: localhost)", metavar="HOST")


def frontend_of(session: Session, a: dict[str, Any]) -> Any:
    from cairn.errors import NotFound
    from cairn.inventory import lookup

    try:
        found = lookup.hosts(session, [a["frontend"] or "localhost"], all_if_empty=False)
    except NotFound:
        if a["frontend"]:
            raise
        return None
    return found[0] if len(found) == 1 else None


def directory_of(a: dict[str, Any]) -> str:
    from cairn.vms.disks import check_path

    return check_path((a["dir"] or DEFAULT_DIR).rstrip("/") or "/", "dir=")
