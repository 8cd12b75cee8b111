"""The user's terminal for interactive commands: raw mode while a console is
attached, restored whatever happens. Nothing else belongs here."""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import tty
from collections.abc import Iterator


def interactive() -> bool:
    """True when both stdin and stdout are terminals (a person is typing)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@contextlib.contextmanager
def raw(fd: int) -> Iterator[None]:
    """Keys go to the program one by one, unechoed, Ctrl-C included, until the block ends."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def write_out(data: bytes) -> None:
    """Bytes straight to stdout, unbuffered (a console's output as it comes)."""
    view = memoryview(data)
    while view:
        written = os.write(sys.stdout.fileno(), view)
        view = view[written:]
