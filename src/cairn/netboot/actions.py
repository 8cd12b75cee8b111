"""Boot actions (kernel, ramdisk, arguments) and each host's boot (install | os).

What lands in PXE files is checked here: a kernel or ramdisk is a relative path
under the TFTP root (no '..', no spaces or control characters), arguments are
one line of printable text.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import BootAction, Host
from cairn.errors import CairnError, Conflict, NotFound

BOOTS = ("install", "os")
DEFAULT_INSTALL_ACTION = "install"
_TFTP_PATH = re.compile(r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*$")


def tftp_path(value: str, what: str) -> str:
    if not _TFTP_PATH.fullmatch(value) or ".." in value.split("/"):
        raise CairnError(
            f"{what} {value!r} is not a path under the TFTP root: give one like"
            " vmlinuz-6.1 or images/initrd.img (letters, digits, _ . + - and /, no ..)"
        )
    return value


def boot_args(value: str) -> str:
    if not value.isprintable():
        raise CairnError("args= must be one line of printable text (no line breaks or tabs)")
    return value


def add_action(
    session: Session, name: str, kernel: str, ramdisk: str | None, args: str | None
) -> None:
    if session.execute(select(BootAction.id).where(BootAction.name == name)).first():
        raise Conflict(f"boot action {name} exists already (see: cairn list bootaction)")
    session.add(
        BootAction(
            name=name,
            kernel=tftp_path(kernel, "kernel"),
            ramdisk=tftp_path(ramdisk, "ramdisk") if ramdisk else None,
            args=boot_args(args) if args else None,
        )
    )


def remove_action(session: Session, name: str) -> None:
    found = session.execute(select(BootAction).where(BootAction.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"there is no boot action named {name!r} (see: cairn list bootaction)")
    session.delete(found)


def check_action(session: Session, name: str) -> None:
    """Refuse a boot action the database does not have, as Rocks did."""
    if session.execute(select(BootAction.id).where(BootAction.name == name)).first() is None:
        raise NotFound(
            f"there is no boot action named {name!r}: add it (cairn add bootaction"
            f" '{name}' kernel=...) or pick one of: cairn list bootaction"
        )


def set_boot(hosts: list[Host], action: str) -> None:
    for host in hosts:
        host.boot = action
