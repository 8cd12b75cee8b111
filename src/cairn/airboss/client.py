"""The tenant's side of the Airboss: send one signed request, get its rows back,
or attach to a VM's console through it.

What belongs here: reaching the Airboss (plain on loopback, where an SSH
tunnel brings it; TLS checked against the cluster CA's certificate anywhere
else), sending the request `envelope` frames, reading the reply. Not here:
what the commands with `key=` print (they return these rows), nor anything of
the database or libvirt: this runs on any machine with only a private key.
Imported only when a command runs with key=, so the `cairn` client stays light.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import ssl
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from cairn.airboss import envelope, keys, settings
from cairn.errors import CairnError

CONNECT_SECONDS = 10.0
REPLY_SECONDS = 600.0  # a power request waits for its command (a cluster's, with delay=)
ESCAPE = b"\x1d"  # ^], as the administrator's console


def call(
    op: str,
    target: str,
    params: Mapping[str, str] | None = None,
    *,
    key: Path,
    address: str | None = None,
    passphrase: str | None = None,
    ca: str | None = None,
) -> list[dict[str, str]]:
    """Run `op` on `target` through the Airboss, signed with the private key in
    `key`; the rows it answers with. CairnError with the Airboss's one-line
    reason when it refuses."""
    wire = envelope.sign(keys.load_private(key, passphrase), op, target, params)
    with _connected(address, ca) as sock:
        sock.sendall(wire)
        return _reply(sock)


def console(
    target: str,
    *,
    key: Path,
    address: str | None = None,
    passphrase: str | None = None,
    ca: str | None = None,
    readonly: bool = False,
) -> None:
    """Attach the terminal to `target`'s serial console through the Airboss
    until ^] (or the console closes). Without a terminal, stream its output
    to stdout until it closes."""
    from cairn.cli import terminal

    params = {"readonly": "yes"} if readonly else {}
    wire = envelope.sign(keys.load_private(key, passphrase), "console", target, params)
    with _connected(address, ca) as sock:
        sock.sendall(wire)
        _reply(sock)  # raises the refusal; an empty row list means attached
        typing = terminal.interactive() and not readonly
        fd = sys.stdin.fileno() if typing else None
        if fd is not None:
            print(f"Connected to {target} (Escape character is ^])", file=sys.stderr, flush=True)
        with terminal.raw(fd) if fd is not None else contextlib.nullcontext():
            _relay(sock, fd, terminal.write_out)
        if fd is not None:
            print("", file=sys.stderr)


def _relay(sock: socket.socket, fd: int | None, out: Callable[[bytes], None]) -> None:
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    if fd is not None:
        sel.register(fd, selectors.EVENT_READ)
    sock.settimeout(None)
    try:
        while True:
            for ready, _ in sel.select():
                if ready.fileobj is sock:
                    data = sock.recv(65536)
                    if not data:
                        return
                    out(data)
                    while isinstance(sock, ssl.SSLSocket) and sock.pending():
                        out(sock.recv(sock.pending()))
                else:
                    typed = os.read(fd, 4096) if fd is not None else b""
                    if not typed or ESCAPE in typed:
                        if typed.partition(ESCAPE)[0]:
                            sock.sendall(typed.partition(ESCAPE)[0])
                        return
                    sock.sendall(typed)
    finally:
        sel.close()


@contextlib.contextmanager
def _connected(address: str | None, ca: str | None) -> Iterator[socket.socket]:
    host, port = settings.client_address(address)
    try:
        raw = socket.create_connection((host, port), timeout=CONNECT_SECONDS)
    except OSError as e:
        raise CairnError(
            f"cannot reach the Airboss at {host}:{port}: {e.strerror or e}"
            " (is it on, and the SSH tunnel up?)"
        ) from None
    sock: socket.socket = raw
    try:
        if not settings.is_loopback(host):
            context = ssl.create_default_context(cafile=settings.client_ca(ca))
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                sock = context.wrap_socket(raw, server_hostname=host)
            except (ssl.SSLError, OSError) as e:
                raise CairnError(
                    f"TLS with the Airboss at {host}:{port} failed: {e}"
                    " (is ca= the cluster CA's certificate?)"
                ) from None
        sock.settimeout(REPLY_SECONDS)
        yield sock
    finally:
        sock.close()


def _reply(sock: socket.socket) -> list[dict[str, str]]:
    try:
        n = envelope.reply_length(_exactly(sock, 4))
        return envelope.read_reply(_exactly(sock, n))
    except TimeoutError:
        raise CairnError("the Airboss did not answer in time") from None
    except OSError as e:
        raise CairnError(f"the Airboss closed the connection: {e.strerror or e}") from None


def _exactly(sock: socket.socket, n: int) -> bytes:
    parts: list[bytes] = []
    while n:
        got = sock.recv(min(n, 1 << 20))
        if not got:
            raise CairnError("the Airboss closed the connection without answering")
        parts.append(got)
        n -= len(got)
    return b"".join(parts)
