"""Connections to VM containers: at most one open libvirt connection per URI.

A command opens what it needs through one `Connections`, shares it between
the threads that drive containers in parallel, and closes everything on exit:

    with Connections() as conns:
        conn = conns.get(uri_for(template, "compute-0-1"))

A resident process (the cairn service) calls `keep_open()`: from then on
every `Connections` shares one process-wide set, and closing one closes
nothing, so each container keeps one connection for the life of the process
(one found dead is opened again on next use).

Also `uri_for`, which turns the `kvm_connection` attribute template into a URI.

Before a URI is opened it is checked again (`check_uri`: no transport or
option that runs a program or names a file), and a remote TLS or TCP
container is first knocked on with a plain TCP connection bounded by
CONNECT_TIMEOUT, so an unreachable container fails in seconds rather than
after the kernel's TCP time-outs (minutes), and the others go on.
Every URI a `Connections` handed out is stamped when it closes (`last_used`):
what a command did there may still be on its way as events to the watcher.
Nothing here looks at domains or storage.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import libvirt

from cairn.hypervisor.errors import ContainerUnreachable, classify
from cairn.hypervisor.eventloop import start_loop
from cairn.hypervisor.uri import check_uri

CONNECT_TIMEOUT = 5.0  # seconds a container's libvirtd port may take to accept
_PORTS = {"": 16514, "tls": 16514, "tcp": 16509}  # libvirt's defaults


def describe(uri: str) -> str:
    """How error messages name a container: "container compute-0-1 (qemu+ssh://...)"."""
    host = urlsplit(uri).hostname
    return f"container {host} ({uri})" if host else uri


def where(conn: libvirt.virConnect) -> str:
    """`describe` for an open connection, for error messages."""
    try:
        return describe(conn.getURI())
    except libvirt.libvirtError:
        return "a closed connection"


_kept: Connections | None = None
_used: dict[str, float] = {}  # URI -> when a Connections that handed it out closed


def last_used(uri: str) -> float:
    """time.monotonic() when a `Connections` that handed out `uri` last closed
    (-inf if none did)."""
    return _used.get(uri, float("-inf"))


def keep_open() -> None:
    """From now on, connections outlive the `Connections` that opened them."""
    global _kept
    if _kept is None:
        start_loop()  # so that a kept connection whose daemon restarted is seen closed
        _kept = Connections(shared=False)


def release_kept() -> None:
    """Close the connections `keep_open` kept (a service that stops); later
    `Connections` open their own again."""
    global _kept
    kept, _kept = _kept, None
    if kept is not None:
        kept.close()


class Connections:
    """Open libvirt connections keyed by URI; thread-safe; closes them all on exit.

    A connection that fails to open is not remembered, so a later `get` retries.
    """

    def __init__(self, *, shared: bool = True) -> None:
        self._shared = _kept if shared else None
        self._lock = threading.Lock()
        self._open: dict[str, libvirt.virConnect] = {}
        # One lock per URI: opening a slow ssh connection to one container
        # must not hold up threads that want another container.
        self._uri_locks: dict[str, threading.Lock] = {}
        self._closed = False
        self._handed: set[str] = set()

    def __enter__(self) -> Connections:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get(self, uri: str) -> libvirt.virConnect:
        """The open connection to `uri`, opening it on first use.

        Raises ContainerUnreachable (whatever libvirt's error code) if it cannot
        be opened; the message names the container and URI.
        """
        self._handed.add(uri)
        if self._shared is not None:
            self._check_open()
            return self._shared.get(uri)
        with self._lock:
            self._check_open()
            conn = self._open.get(uri)
            if conn is not None and (self is not _kept or _alive(conn)):
                return conn
            self._open.pop(uri, None)
            uri_lock = self._uri_locks.setdefault(uri, threading.Lock())
        with uri_lock:
            with self._lock:
                self._check_open()
                conn = self._open.get(uri)
            if conn is not None and (self is not _kept or _alive(conn)):
                return conn
            check_uri(uri)
            _check_test_file(uri)
            knock(uri)
            try:
                conn = libvirt.open(uri)
            except libvirt.libvirtError as exc:
                raise classify(exc, f"cannot reach {describe(uri)}", ContainerUnreachable) from None
            with self._lock:
                if self._closed:  # closed while we were connecting
                    _close_quietly(conn)
                    self._check_open()
                self._open[uri] = conn
            return conn

    def close(self) -> None:
        """Close every connection; later `get` calls raise RuntimeError."""
        with self._lock:
            self._closed = True
            conns = list(self._open.values())
            self._open.clear()
            now = time.monotonic()
            for uri in self._handed:
                _used[uri] = now
        for conn in conns:
            _close_quietly(conn)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Connections used after close()")


def _alive(conn: libvirt.virConnect) -> bool:
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False


def knock(uri: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """For a TLS or TCP URI with a host: ContainerUnreachable unless its libvirtd
    port accepts a TCP connection within `timeout` seconds. SSH is left to ssh
    (its own configuration may name another host or port)."""
    parts = urlsplit(uri)
    driver, _, transport = parts.scheme.partition("+")
    port = _PORTS.get(transport)
    if driver == "test" or not parts.hostname or port is None:
        return
    try:
        port = parts.port or port
    except ValueError:
        return  # libvirt will say what is wrong with it
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ContainerUnreachable(
            f"cannot reach {describe(uri)}: port {port}: {why} (waited at most {timeout:g} s)",
            libvirt.VIR_ERR_NO_CONNECT,
        ) from None


def _check_test_file(uri: str) -> None:
    """libvirt's test driver given a missing file lets libxml2 print a warning
    of its own to stderr; say what is wrong in one line before it can."""
    parts = urlsplit(uri)
    if parts.scheme == "test" and parts.path != "/default" and not Path(parts.path).is_file():
        raise ContainerUnreachable(
            f"cannot reach {describe(uri)}: the test driver's file {parts.path} does not exist",
            libvirt.VIR_ERR_OPEN_FAILED,
        )


def _close_quietly(conn: libvirt.virConnect) -> None:
    # A connection whose transport already died fails to close; there is
    # nothing left to release, and the command's own error matters more.
    with contextlib.suppress(libvirt.libvirtError):
        conn.close()
