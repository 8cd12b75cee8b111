"""Argument declarations and small helpers shared by many commands."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

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


def command_line(*words: str, **params: object) -> str:
    """A `cairn` command line, every word quoted so that `sh` gives it back exactly."""
    parts = ["cairn", *(shlex.quote(w) for w in words)]
    for name, given in params.items():
        for value in given if isinstance(given, list | tuple) else [given]:
            if value is None:
                continue
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            parts.append(f"{name.replace('_', '-')}={shlex.quote(shown)}")
    return " ".join(parts)


def lines(commands: Iterable[str]) -> str:
    body = "\n".join(commands)
    return body + "\n" if body else ""


__all__ = ["HOST", "HOSTS", "VMS", "command_line", "lines", "values"]
