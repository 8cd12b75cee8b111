"""The systemd units cairn runs as, and the cairn executable they name.

cairn-container.service and cairn-network.service run on every VM container
(installed by the profile of `cairn report host profile`); cairn-watch.service
runs `cairn watch` on the frontend (printed by `cairn report watch`).
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import sys
from pathlib import Path

from cairn.errors import CairnError

UNIT_TIMEOUT = 900  # seconds: saving the memory of many big VMs takes a while
_COMMAND = re.compile(r"^/[A-Za-z0-9._+@=:/-]*$")  # no %: systemd expands it in units


def default_cairn_command() -> str:
    """The cairn executable that is running, as an absolute path (not resolved, so
    that a stable symlink such as /usr/local/bin/cairn is kept)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name == "cairn" and os.path.isfile(argv0):
        return os.path.abspath(argv0)
    beside = Path(sys.executable).parent / "cairn"  # the venv's bin, in tests and `python -m`
    if beside.is_file():
        return str(beside.absolute())
    found = shutil.which("cairn")
    return os.path.abspath(found) if found else "/usr/local/bin/cairn"


def check_command(
    value: str, what: str, how: str = "'cairn set attr cairn_command /path/to/cairn'"
) -> str:
    """`value` if it is a plain absolute path that a unit can name; `how` says how to fix it.

    The file must be named cairn: the value may come from the database
    (cairn_command), and the units run it as root at every boot, so it may not
    name another program (a shell, an interpreter).
    """
    if not _COMMAND.fullmatch(value) or posixpath.normpath(value) != value or value[:2] == "//":
        raise CairnError(
            f"{what} {value!r} must be the absolute path of the cairn executable, of plain"
            f" characters (letters, digits and . _ + @ = : / -); set it with {how}"
        )
    if posixpath.basename(value) != "cairn":
        raise CairnError(
            f"{what} {value!r} must name the cairn executable, a file named cairn (the"
            f" units run it as root); set it with {how}"
        )
    return value


def _unit(comment: str, unit: list[str], service: list[str]) -> str:
    """A unit file: comment lines, then [Unit], [Service] and a multi-user [Install]."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += ["[Unit]", *unit, "", "[Service]", *service, ""]
    return "\n".join([*lines, "[Install]", "WantedBy=multi-user.target"])


def container_unit(cairn: str) -> str:
    """cairn-container.service: boot VMs after libvirtd starts, shut them down before it stops."""
    return _unit(
        "Made by cairn (cairn report host profile). Boots the VMs of this node once\n"
        "libvirtd runs and shuts them down cleanly before libvirtd stops (the reverse\n"
        "order at shutdown); libvirt-guests.service is disabled so only this does it.",
        [
            "Description=cairn VM container: boot and shut down the VMs of this node",
            "Requires=libvirtd.service",
            "After=libvirtd.service libvirt-guests.service network-online.target remote-fs.target",
            "Wants=network-online.target",
        ],
        [
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart={cairn} container boot",
            f"ExecStop={cairn} container shutdown yes=true",
            f"TimeoutStartSec={UNIT_TIMEOUT}",
            f"TimeoutStopSec={UNIT_TIMEOUT}",
        ],
    )


NETWORK_SCRIPT = "/etc/cairn/network.sh"


def network_unit(script: str = NETWORK_SCRIPT) -> str:
    """cairn-network.service: the bridges for VMs at boot, before libvirtd starts VMs."""
    return _unit(
        "Made by cairn (cairn report host profile). Makes this node's bridges for VMs\n"
        "at boot, as the database's network plan says (the script is the profile's\n"
        "bridges part; cairn sync host network does the same from the frontend).",
        [
            "Description=cairn VM container: the bridges for VMs",
            "Wants=network-online.target",
            "After=network-online.target",
            "Before=libvirtd.service cairn-container.service",
        ],
        ["Type=oneshot", "RemainAfterExit=yes", f"ExecStart=/bin/sh {script}"],
    )


def watch_unit(cairn: str) -> str:
    """cairn-watch.service: `cairn watch` on the frontend, restarted if it fails."""
    return _unit(
        "Made by cairn (cairn report watch). Runs `cairn watch`, the cairn service, on\n"
        "the frontend: it serves the cairn command line and its JSON API, and VMs\n"
        "which stop on their own (guest power-off, crash, destroyed outside cairn)\n"
        "get their plugin_disallocate once. Install it with:\n"
        "  cairn report watch > /etc/systemd/system/cairn-watch.service\n"
        "  systemctl daemon-reload && systemctl enable --now cairn-watch.service\n"
        "The database is the one in /etc/cairn/cairn.toml (db_url), else the default.",
        [
            "Description=cairn service: the command line's resident service and the watcher",
            "Wants=network-online.target",
            "After=network-online.target postgresql.service mariadb.service",
        ],
        [f"ExecStart={cairn} watch", "Restart=on-failure", "RestartSec=5"],
    )
