"""The resident service: a Unix socket, one thread per client, the watcher.

It keeps the database engines and the libvirt connections open
(`keep_engines`, `keep_open`), runs the watcher in a thread, and runs every
command a client sends through `cairn.cli.main.execute`, the code a plain
process runs, with the client's streams. Writing commands run one at a time
(they would queue on the database's write lock anyway); reading ones run at
once. Callers are told apart by their Unix credentials (SO_PEERCRED): only
root and the user the service runs as (the owner of its database) may
connect, and the socket sits in a directory only that user can enter.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import logging
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, cast

from cairn.cli.batch import run_lines
from cairn.cli.main import execute
from cairn.cli.spec import Command
from cairn.errors import CairnError
from cairn.service import wire
from cairn.service.address import version
from cairn.service.wire import Channel

log = logging.getLogger("cairn.service")
_UCRED = struct.Struct("3i")


class Service:
    def __init__(
        self,
        path: str,
        env: dict[str, str],
        *,
        refresh: float = 60.0,
        idle: float = 0.0,
        watch: bool = True,
    ) -> None:
        self.path = Path(path)
        self.env = env
        self.refresh = refresh
        self.idle = idle
        self.watch = watch
        self.version = version()
        self.owner = os.geteuid()
        self.stopping = threading.Event()
        self._writes = threading.Lock()
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._last = time.monotonic()
        self._listener: socket.socket | None = None
        self._lock_file: Any = None

    # -- life ------------------------------------------------------------------

    def serve(self, until: Callable[[], bool] | None = None) -> None:
        """Binds the socket, then serves until stopped (SIGTERM, `stop`, idle)."""
        if not self._take_lock():
            raise CairnError(f"a cairn service already listens on {self.path}")
        self._warm()
        self._bind()
        watcher = self._start_watcher()
        log.info("cairn service %s listening on %s (pid %d)", self.version, self.path, os.getpid())
        try:
            self._accept_loop(until)
        finally:
            self._close_listener()
            self.stopping.set()
            self._drain()
            if watcher is not None:
                watcher.join(timeout=10)
            log.info("cairn service stopped")

    def _take_lock(self) -> bool:
        """One service per socket: a lock file beside it, held for life. A
        service still shutting down is waited for; a live one wins."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_file = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        if _answers(self.path):
            return False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                time.sleep(0.05)
        return False

    def _warm(self) -> None:
        """Load what every command needs before the first client waits for it.
        The database itself is opened by the first command: that may be
        `init defaults=no`, which must find it empty."""
        import cairn.context
        import cairn.db.models
        import cairn.db.session  # noqa: F401
        from cairn.db.session import keep_engines
        from cairn.hypervisor.connections import keep_open

        keep_engines()
        keep_open()
        # What is loaded now lives as long as the service: kept out of the
        # collector's full passes, which a streamed listing of a million
        # rows would otherwise trigger over and over across all of it.
        gc.collect()
        gc.freeze()

    def _bind(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # stale: the lock says no live service owns it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        self._listener = listener

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _start_watcher(self) -> threading.Thread | None:
        if not self.watch:
            return None
        thread = threading.Thread(target=self._watch, name="watch", daemon=True)
        thread.start()
        return thread

    def _watch(self) -> None:
        """The watcher, once the database exists (a service must not create
        it before a client's `init` does)."""
        from cairn.lifecycle.watch import Watcher

        url = self.env["CAIRN_DB_URL"]
        try:
            while not _current(url):
                if self.stopping.wait(self.refresh):
                    return
            Watcher(url, refresh=self.refresh).run(until=self.stopping.is_set)
        except Exception:
            log.exception("the watcher failed; the service goes on without it")

    def _accept_loop(self, until: Callable[[], bool] | None) -> None:
        while not self.stopping.is_set() and not (until and until()):
            if self.idle and not self._busy and time.monotonic() - self._last > self.idle:
                log.info("no client for %g s: stopping", self.idle)
                return
            listener = self._listener
            if listener is None:
                return
            ready, _, _ = select.select([listener], [], [], 0.5)
            if not ready:
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _drain(self, timeout: float = 30.0) -> None:
        """Let running commands finish (each is one transaction) before exiting."""
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.05)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        with self._busy_lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1
                self._last = time.monotonic()

    def stop(self) -> None:
        self._close_listener()
        self.stopping.set()

    # -- one client ------------------------------------------------------------

    def _serve_one(self, conn: socket.socket) -> None:
        with self._counted(), contextlib.closing(conn):
            try:
                uid = peer_uid(conn)
                if uid not in (0, self.owner):
                    log.warning("refused uid %d", uid)
                    _refuse_raw(conn, f"uid {uid} may not use this cairn service")
                    return
                first = conn.recv(1, socket.MSG_PEEK)
                if first == wire.HELLO:
                    self._native(Channel(conn))
                elif first:
                    from cairn.service.httpd import take

                    take(self, conn)  # the HTTP server's from now on; conn is left detached
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away; its command ran to its end regardless
            except Exception:  # a bug must not take the service down
                log.exception("serving a client failed")

    def _native(self, chan: Channel) -> None:
        hello = chan.receive()
        if hello is None or hello[0] != wire.HELLO:
            return
        theirs, *env = wire.unpack(hello[1])
        chan.send(wire.HELLO, wire.pack([self.version, str(os.getpid()), str(self.owner)]))
        request = chan.receive()
        if request is None:
            return
        tag, payload = request
        if tag == wire.STOP:
            self.stop()
            chan.send(wire.EXIT, b"0")
            return
        if theirs != self.version:
            message = (
                f"this cairn service runs cairn {self.version} and the client is cairn"
                f" {theirs}: restart the service"
            )
            chan.send(wire.REFUSED, message.encode())
            return
        if wire.unpack_env(env) != self.env:
            message = "this cairn service serves another database or setup (CAIRN_SOCKET?)"
            chan.send(wire.REFUSED, message.encode())
            return
        # Text streams to the commands, like the ones a plain process has.
        out = cast(TextIO, _Stream(chan, wire.OUT))
        err = cast(TextIO, _Stream(chan, wire.ERR, eager=True))
        tty = payload[:1] == b"1"
        if tag == wire.RUN:
            words = wire.unpack(payload[1:])
            if words[:1] == ["watch"]:
                err.write("error - the service runs the watcher itself; see 'cairn watch help'\n")
                status = 2
            elif _interactive(words):
                chan.send(wire.LOCAL)
                return
            else:
                status = execute(words, out, err, progress=tty, wrap=self.wrap)
        elif tag == wire.BATCH:
            lines = payload[1:].decode("utf-8", "surrogateescape").splitlines()
            status = run_lines(lines, out, err, progress=tty, wrap=self.wrap)
        else:
            return
        out.flush()
        err.flush()
        chan.send(wire.EXIT, str(status).encode())

    @contextlib.contextmanager
    def wrap(self, command: type[Command]) -> Iterator[None]:
        """Around each command: writers one at a time."""
        if command.writes:
            with self._writes:
                yield
        else:
            yield


def _interactive(words: list[str]) -> bool:
    from cairn.cli.main import find

    try:
        command, _title, _rest = find(words)
    except CairnError:
        return False
    return command.interactive


def _current(url: str) -> bool:
    """Whether the database exists at this cairn's schema (creating nothing)."""
    from cairn.db.engine import make_engine
    from cairn.db.head import HEAD
    from cairn.db.schema import current_revision

    try:
        engine = make_engine(url, writes=False)
    except CairnError:  # e.g. a SQLite file whose directory is missing
        return False
    try:
        with engine.connect() as conn:
            return current_revision(conn) == HEAD
    except Exception:
        return False
    finally:
        engine.dispose()


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    _pid, uid, _gid = _UCRED.unpack(creds)
    return int(uid)


def _refuse_raw(conn: socket.socket, message: str) -> None:
    """A refusal both a cairn client and an HTTP client can read."""
    first = conn.recv(1, socket.MSG_PEEK)
    if first == wire.HELLO:
        Channel(conn).send(wire.REFUSED, message.encode())
    else:
        from cairn.service.api import send_json

        send_json(conn, 403, {"error": message})


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


class _Stream(io.TextIOBase):
    """A command's stdout or stderr, sent to the client as it is written."""

    def __init__(self, chan: Channel, tag: bytes, *, eager: bool = False) -> None:
        self._chan = chan
        self._tag = tag
        self._eager = eager
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._eager or self._size > 1 << 16:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            text = self._parts[0] if len(self._parts) == 1 else "".join(self._parts)
            self._parts, self._size = [], 0
            for start in range(0, len(text), 1 << 20):  # frames of at most 1 Mi characters
                piece = text[start : start + (1 << 20)]
                self._chan.send(self._tag, piece.encode("utf-8", "surrogateescape"))

    def isatty(self) -> bool:
        return False
