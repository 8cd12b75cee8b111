"""The resident service: a Unix socket, one thread per client, the watcher.

It keeps the database engines and the libvirt connections open
(`keep_engines`, `keep_open`), runs the watcher in a thread, and runs every
command a client sends through `cairn.cli.main.execute`, the code a plain
process runs, with the client's streams. Writing commands run one at a time
(they would queue on the database's write lock anyway); reading ones run at
once. Callers are told apart by their Unix credentials (SO_PEERCRED): only
root and the user the service runs as (the owner of its database) may
connect, and the socket sits in a directory only that user can enter.

Its life: it serves until SIGTERM, `stop` or, with no client, until it has
been idle for `idle` seconds or its database is gone (or, for a service with
an idle time, was never there: started for a URL its command refused). Asked
to stop, it takes no new client and finishes every command it runs, however
long, before it answers and exits: another user's batch is never cut short.
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
import stat
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, cast

from cairn.cli import bugs
from cairn.cli.batch import lines_of, run_lines
from cairn.cli.main import execute, one_line
from cairn.cli.spec import Command
from cairn.db.presence import MISSING, THERE, presence, sqlite_path
from cairn.db.session import kept_for
from cairn.errors import CairnError, UsageError
from cairn.service import limits, wire
from cairn.service.address import open_private, version
from cairn.service.wire import Channel

log = logging.getLogger("cairn.service")
# How long a client may take to send its request (the cairn client sends it at
# once; an HTTP client gets its own bounds in httpd).
FIRST_WORDS_S = 15.0
_UCRED = struct.Struct("3i")
# With no client, the service looks whether its database is there this often
# (a stat for SQLite, a connection for a server) ...
LOOK_EVERY_S = {True: 0.5, False: 10.0}
# ... and ends for a database that is not there once no client has come for
# this long (the client that has just started it connects well within it).
QUIET_BEFORE_END_S = 1.0
SOCKET_PATH_MAX = 107  # bytes in a Unix socket's path (sun_path, less its NUL)
# A watcher that failed starts again after this long, doubled each time up to the max.
WATCH_RETRY_START, WATCH_RETRY_MAX = 1.0, 60.0


class Occupied(CairnError):
    """Another service listens on the socket."""


class Service:
    def __init__(
        self,
        path: str,
        env: dict[str, str],
        *,
        refresh: float = 60.0,
        idle: float = 0.0,
        watch: bool = True,
        freeze: bool = True,
    ) -> None:
        """`freeze`: the process is the service's for good (not a test's thread),
        so what it loads at start is kept out of the collector's passes."""
        self.path = Path(path)
        self.env = env
        self.refresh = refresh
        self.idle = idle
        self.watch = watch
        self.freeze = freeze
        self.first_words_s = FIRST_WORDS_S
        self.version = version()
        self.owner = os.geteuid()
        self.stopping = threading.Event()
        self._writes = threading.Lock()
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._quiet = threading.Condition(self._busy_lock)  # notified as clients leave
        self._stoppers = 0  # clients that asked it to stop and wait for the rest
        self._last = time.monotonic()
        self._database = (0.0, THERE)  # (when it was looked at, what was seen)
        self._database_seen = False
        self._listener: socket.socket | None = None
        # Set once the socket is closed and unlinked: a stopper is answered only
        # then, so its next hello cannot reach this service (see _stop_when_done).
        self._unbound = threading.Event()
        self._lock_file: Any = None
        # stop() writes a byte here to wake the accept loop: it may run in a
        # signal handler, which must not close the socket the loop selects on.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._why = ""  # what stopped the service, for the log
        self._hurry = False  # a second signal: stop waiting for running commands
        self.airboss: Any = None  # cairn.airboss.server.Airboss, when the config turns it on

    # -- life ------------------------------------------------------------------

    def serve(self, until: Callable[[], bool] | None = None) -> None:
        """Binds the socket, then serves until stopped (SIGTERM, `stop`, idle)."""
        if not self._take_lock():
            self._lock_file.close()
            raise Occupied(f"a cairn service already listens on {self.path}")
        self._warm()
        limits.more_open_files()
        bugs.keep_in_log(_log_place())
        self._bind()
        from cairn.airboss.server import start as start_airboss  # off unless [airboss] listen

        self.airboss = start_airboss(self)
        self._last = time.monotonic()  # the client that started it connects now
        watcher = self._start_watcher()
        page = _start_web(self)
        threading.Thread(target=self._look, name="look", daemon=True).start()
        log.info("cairn service %s listening on %s (pid %d)", self.version, self.path, os.getpid())
        try:
            self._accept_loop(until)
        finally:
            self._close_listener()
            self.stopping.set()
            if self.airboss is not None:
                self.airboss.stop()
            self._drain()
            if page is not None:
                page.stop()
            if watcher is not None:
                watcher.join(timeout=10)
            # A late signal's stop() must find no descriptor (one reused would take its byte).
            wake_w, self._wake_w = self._wake_w, -1
            os.close(wake_w)
            os.close(self._wake_r)
            _release()
            log.info("cairn service stopped%s", f" ({self._why})" if self._why else "")
            # Last: a service that takes over waits for this lock before it binds.
            self._lock_file.close()

    def _take_lock(self) -> bool:
        """One service per socket: a lock file beside it, held for life. A
        service still shutting down is waited for; a live one wins."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_file = open(open_private(str(self.path) + ".lock"), "w")  # noqa: SIM115
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
        if self.freeze:
            # What is loaded now lives as long as the service: kept out of the
            # collector's full passes, which a streamed listing of a million
            # rows would otherwise trigger over and over across all of it.
            gc.collect()
            gc.freeze()

    def _bind(self) -> None:
        """Listen on the socket's path. The socket is bound and listening under
        a name of its own first, then renamed into place: a client that finds
        the path can connect (bound but not yet listening, it was refused)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # stale: the lock says no live service owns it
        new = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        if len(os.fsencode(str(new))) > SOCKET_PATH_MAX:  # no room: bound in place
            new = self.path
        with contextlib.suppress(FileNotFoundError):
            new.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            old = os.umask(0o177)
            try:
                listener.bind(str(new))
            finally:
                os.umask(old)
            os.chmod(new, 0o600)
            listener.listen(64)
            os.replace(new, self.path)
        except BaseException:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                new.unlink()
            raise
        self._listener = listener

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._unbound.set()

    def _start_watcher(self) -> threading.Thread | None:
        if not self.watch:
            return None
        thread = threading.Thread(target=self._watch, name="watch", daemon=True)
        thread.start()
        return thread

    def _watch(self) -> None:
        """The watcher, once the database exists (a service must not create
        it before a client's `init` does). One that fails (a bug, a database
        busy past its time-out as it starts) is started again, after 1 s, then
        twice as long each time up to a minute: a service does not go on
        without its watcher, whose news the page and kvm_autostart need."""
        from cairn.lifecycle.watch import Watcher

        url = self.env["CAIRN_DB_URL"]
        delay = WATCH_RETRY_START
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                while not _current(url):
                    if self.stopping.wait(self.refresh):
                        return
                Watcher(url, refresh=self.refresh, keep=True).run(until=self.stopping.is_set)
                return
            except CairnError as exc:  # what the administrator must fix: said in a line
                log.error("the watcher failed: %s; it starts again in %g s", exc, delay)
            except Exception:
                log.exception("the watcher failed; it starts again in %g s", delay)
            if time.monotonic() - began >= WATCH_RETRY_MAX:  # it had run: a new failure
                delay = WATCH_RETRY_START
            if self.stopping.wait(delay):
                return
            delay = min(delay * 2, WATCH_RETRY_MAX)

    def _accept_loop(self, until: Callable[[], bool] | None) -> None:
        while not self.stopping.is_set() and not (until and until()):
            if self._should_end():
                return
            listener = self._listener
            if listener is None:
                return
            ready, _, _ = select.select([listener.fileno(), self._wake_r], [], [], 0.5)
            if self._wake_r in ready:
                os.read(self._wake_r, 512)
            # A client that came with the stop is not taken: it finds the socket
            # gone (a new service, for a client that restarts this one).
            if listener.fileno() not in ready or self.stopping.is_set():
                continue
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _should_end(self) -> bool:
        """Whether the service, with no client now, ends: idle too long, or its
        database gone (or, with an idle time, not there)."""
        if self._busy:
            return False
        now = time.monotonic()
        # With the Airboss on, tenants rely on it being there: no idle end.
        if self.idle and self.airboss is None and now - self._last > self.idle:
            log.info("no client for %g s: stopping", self.idle)
            return True
        looked_at, state = self._database
        # Only a look begun since the last client left counts (that client
        # may have made the database), and not at once: the client that has
        # just started this service has yet to connect.
        if state == THERE or looked_at < self._last or now - self._last < QUIET_BEFORE_END_S:
            return False
        if self._database_seen or kept_for(self.env["CAIRN_DB_URL"]):
            if state == MISSING:
                log.info("its database is gone: stopping")
                return True
            return False  # a server that does not answer now may answer again
        if self.idle:  # started on demand for a database that is not there
            log.info("its database is %s: stopping", state)
            return True
        return False

    def _look(self) -> None:
        """Looks, while no client is served, whether the database is there (in
        a thread of its own: a server may take long to answer)."""
        url = self.env["CAIRN_DB_URL"]
        every = LOOK_EVERY_S[sqlite_path(url) is not None]
        while not self.stopping.wait(every):
            if self._busy:
                continue
            looked_at = time.monotonic()
            state = presence(url)
            if state == THERE:
                self._database_seen = True
            self._database = (looked_at, state)

    def _drain(self) -> None:
        """Lets every running command finish (each is one transaction, a
        batch's lines each whole) before exiting, however long it takes; a
        second stop (SIGTERM or SIGINT again) cuts them short."""
        said = time.monotonic() + 1.0  # a client that is about to end is not worth a line
        with self._quiet:
            while self._busy and not self._hurry:
                # Not woken by a signal's stop(), which may not take the lock: looked at often.
                self._quiet.wait(0.05)
                if said and self._busy and time.monotonic() > said:
                    log.info(
                        "waiting for %d client(s) to end (stop again: without them)", self._busy
                    )
                    said = 0.0

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
                self._quiet.notify_all()

    def _stop_when_done(self, chan: Channel) -> None:
        """STOP: take no new client, wait for every other client's command to
        end (however long), then answer; the service exits after."""
        self.stop()
        with self._quiet:
            self._stoppers += 1
            others = self._busy - self._stoppers
        log.info("asked to stop: first the commands of %d other client(s)", others)
        if others:
            chan.send(
                wire.ERR,
                f"warning - the cairn service (pid {os.getpid()}) first finishes what it"
                f" runs for {others} other client{'s' if others > 1 else ''}\n".encode(),
            )
        with self._quiet:
            self._quiet.wait_for(lambda: self._busy <= self._stoppers)
            self._stoppers -= 1
        # The accept loop closes the socket as soon as it wakes: a stopper that
        # restarts the service must not meet this one again at its next hello.
        self._unbound.wait(timeout=5)
        chan.send(wire.EXIT, b"0")

    def stop(self, why: str = "") -> None:
        """Stops taking clients: `serve` closes the socket and returns once the
        running commands end. Safe in a signal handler (`why`: its name); a
        second call stops waiting for them."""
        if self.stopping.is_set():
            self._hurry = True
        self._why = self._why or why
        self.stopping.set()
        with contextlib.suppress(OSError):  # full (it is awake already) or closed
            os.write(self._wake_w, b"x")

    # -- one client ------------------------------------------------------------

    def _serve_one(self, conn: socket.socket) -> None:
        with self._counted(), contextlib.closing(conn):
            try:
                # A client says what it wants at once: one that says nothing
                # must not hold a thread, nor the service's stop, for ever.
                conn.settimeout(self.first_words_s)
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
            except TimeoutError:
                log.warning("a client said nothing for %g s: closed", self.first_words_s)
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
        # From now on the command sets the pace (a long batch, a slow reader).
        cast(socket.socket, chan.sock).settimeout(None)
        tag, payload = request
        if tag == wire.STOP:
            self._stop_when_done(chan)
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
        try:
            if tag == wire.RUN:
                words = wire.unpack(payload[1:])
                if words[:1] == ["watch"]:
                    err.write(
                        "error - the service runs the watcher itself; see 'cairn watch help'\n"
                    )
                    status = 2
                elif _interactive(words):
                    chan.send(wire.LOCAL)
                    return
                else:
                    status = execute(words, out, err, progress=tty, wrap=self.wrap)
            elif tag == wire.BATCH:
                lines = lines_of(io.BytesIO(payload[1:]))  # not splitlines(): only \n ends a line
                status = run_lines(lines, out, err, progress=tty, wrap=self.wrap)
            else:
                return
        except (BrokenPipeError, ConnectionResetError):
            raise  # the client went away: nobody to tell
        except Exception as exc:  # a bug outside any one command (execute reports those)
            title = "the batch" if tag == wire.BATCH else "the request"
            failed = bugs.internal_error(exc, title, err)
            err.write(f"error - {one_line(str(failed))}\n")
            status = failed.exit_code
        out.flush()
        err.flush()
        chan.send(wire.EXIT, str(status).encode())

    @contextlib.contextmanager
    def wrap(self, command: type[Command]) -> Iterator[None]:
        """Around each command: writers one at a time; none that needs the
        user's terminal, which only a lone command line hands back (LOCAL)."""
        if command.interactive:
            title = command.__module__.removeprefix("cairn.commands.").replace(".", " ")
            raise UsageError(
                f"'{title}' needs your terminal, which the cairn service cannot reach from"
                " a batch or the JSON API: run it as a command line of its own"
            )
        if command.writes:
            with self._writes:
                yield
        else:
            yield


def _start_web(service: Service) -> Any:
    """The web page (cairn.web), when the config file turns it on; loaded only then."""
    from cairn.web.links import wanted

    if not wanted():
        return None
    from cairn.airboss.checks import check  # a tenant's session: the Airboss's one rule
    from cairn.web.listener import start

    return start(service, check)


def _release() -> None:
    """Close what `_warm` kept open: the process may go on (a service in a
    test's thread) and must not keep the database or libvirt open."""
    from cairn.db.session import release_engines
    from cairn.hypervisor.connections import release_kept

    release_engines()
    release_kept()


def _interactive(words: list[str]) -> bool:
    """An interactive command, or one that runs in the client when given its
    `here_with` parameter (a tenant's key=): the client runs it itself."""
    from cairn.cli.main import find

    try:
        command, _title, rest = find(words)
    except CairnError:
        return False
    return command.runs_here(rest)


def _log_place() -> str:
    """Where this process's log goes, for an error that sends the user there:
    the file on its stderr (the one `start_service` opens), else the stream."""
    try:
        if stat.S_ISREG(os.fstat(2).st_mode):
            return os.readlink("/proc/self/fd/2")
    except OSError:
        pass
    return f"(the standard error of pid {os.getpid()}, e.g. journalctl -u cairn-watch)"


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
