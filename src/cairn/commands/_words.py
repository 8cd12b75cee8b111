"""Argument declarations and small helpers shared by many commands."""

from __future__ import annotations

from cairn import values
from cairn.cli.spec import Arg

HOSTS = Arg(
    "host",
    "host names, appliance names, globs (compute-0-*) or localhost",
    required=False,
    many=True,
)
HOST = Arg("host", "a host name, appliance name, glob or localhost")
VMS = Arg("host", "VM names, appliance names or globs (compute-vm-*)", many=True)


__all__ = ["HOST", "HOSTS", "VMS", "values"]
