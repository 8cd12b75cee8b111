"""The cairn service the tests talk to, as users do.

Users run every command through the cairn service, so the tests do too:
`testkit.Cli` sends its words with the `cairn` client's own code
(`cairn.service.client.main`) to a real `cairn.service.server.Service`
listening on the socket the client finds for the test's database. The
service runs in a thread of the test process rather than a process of its
own for one reason: libvirt's `test:///default` host lives in one process,
and the tests look at what the service did there with their own connection
(the `hv` fixture). It keeps its engines and libvirt connections open across
commands as a resident service does, and releases them when the test ends.
It runs no watcher unless a test asks (`serve_watching`, for the web page);
tests/system/test_system_watch.py and the service tests run real `cairn
watch` processes for the watcher itself.

Every socket lives in one directory made for the test session
($CAIRN_RUNTIME_DIR), so a `cairn` process a test starts finds the same
service, and a service such a process starts (for a database or set-up no
in-thread service serves) is stopped when its test ends (`stop_strays`).

With CAIRN_TEST_SERVICE=off the suite runs every command in-process instead
(the extra, smaller path: `cairn` with CAIRN_SERVICE=off).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

from cairn.errors import CairnError
from cairn.service import wire
from cairn.service.address import key_env, socket_path, version
from cairn.service.server import Service

IN_PROCESS = os.environ.get("CAIRN_TEST_SERVICE", "").lower() in ("off", "no", "0")


def session_runtime_dir() -> Path:
    """A fresh directory for this session's sockets (short: a socket's path
    has at most 107 bytes), named in $CAIRN_RUNTIME_DIR."""
    path = Path(tempfile.mkdtemp(prefix="cairn-rt-"))
    path.chmod(0o700)
    os.environ["CAIRN_RUNTIME_DIR"] = str(path)
    return path


class InThread:
    """One real Service on its socket, served by a thread of this process."""

    def __init__(self, env: dict[str, str], *, watch: bool = False, refresh: float = 60.0) -> None:
        """`watch`: run the watcher too (the web page's live states need it),
        looking for new containers every `refresh` seconds."""
        self.env = env
        self.path = socket_path(env)
        self.service = Service(self.path, env, watch=watch, refresh=refresh, freeze=False)
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, name="cairn-service", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while service_pid(Path(self.path)) != os.getpid():
            if self.failed is not None or not self.thread.is_alive():
                raise RuntimeError(f"the test's cairn service did not start: {self.failed!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test's cairn service does not answer on {self.path}")
            time.sleep(0.002)

    def _serve(self) -> None:
        try:
            self.service.serve()
        except BaseException as exc:
            self.failed = exc

    def stop(self) -> None:
        self.service.stop()
        self.thread.join(timeout=60)
        if self.thread.is_alive():
            raise RuntimeError("the test's cairn service did not stop within 60 s")


_current: InThread | None = None


def ensure() -> InThread | None:
    """The in-thread service for the environment as it is now (a test may
    change it: another plugin path, another database), started if no service
    answers for it, as the client starts one; None when the suite runs
    in-process or a service process of the test's answers."""
    global _current
    if IN_PROCESS:
        return None
    try:
        env = key_env()
    except CairnError:  # the client says so, as it does to users
        return _current
    if _current is not None and _current.env == env and _current.thread.is_alive():
        return _current
    stop()
    if service_pid(Path(socket_path(env))) not in (None, os.getpid()):
        return None  # a process serves it (a test's `cairn watch`): the client talks to it
    _current = InThread(env)
    return _current


def serve_watching(refresh: float = 1.0) -> InThread:
    """The test's service from now on, with its watcher (and whatever its
    config file turns on, such as the web page)."""
    global _current
    stop()
    _current = InThread(key_env(), watch=True, refresh=refresh)
    return _current


def stop() -> None:
    global _current
    current, _current = _current, None
    if current is not None:
        current.stop()


def service_pid(sock: Path) -> int | None:
    """The pid, as this process sees it, of whatever cairn service answers on
    `sock` (None: nothing does). Taken from the socket's peer credentials, not
    from what the service says: a service in another PID namespace (the
    testbed's frontend) numbers itself differently."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        try:
            s.connect(str(sock))
            chan = wire.Channel(s)
            chan.send(wire.HELLO, wire.pack([version()]))
            frame = chan.receive()
            pid, _uid, _gid = struct.unpack(
                "3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            )
        except OSError:  # nothing there, or a service that is dying
            return None
    if frame is None or frame[0] != wire.HELLO or pid <= 1:
        return None
    return int(pid)


def stop_strays(directory: Path) -> list[int]:
    """Stops every service process that answers on a socket in `directory`
    (services `cairn` processes started during a test); their pids."""
    stopped = []
    for sock in directory.glob("*.sock"):
        pid = service_pid(sock)
        if pid in (None, os.getpid()):
            continue
        assert pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        stopped.append(pid)
    deadline = time.monotonic() + 30
    for pid in stopped:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return stopped


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before, or between open and read
        return False


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
