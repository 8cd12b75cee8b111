"""Asking the cairn service of this caller's database whether it runs, and to stop.

Light, like `address` and `wire` (no SQLAlchemy, no command line): the
client uses `hello` to meet a service, and `stop service` / `report
service` use all of it in whatever process runs them. The service checks
who asks (root or its owner; see `server`) before it answers anything.
"""

from __future__ import annotations

import _socket

from cairn.errors import CairnError
from cairn.service import wire
from cairn.service.address import key_env, socket_path, version

TYPE_CHECKING = False  # not typing's: importing typing costs the client time
if TYPE_CHECKING:
    from collections.abc import Callable


class Refused(CairnError):
    """A service answered but will not serve this client."""


class Unreachable(CairnError):
    """Something is at the socket's path but cannot be reached (permissions)."""


class Met:
    """A service that answered a hello: its channel (past the hello) and facts.
    (Not a NamedTuple: importing `typing` would cost the client time.)"""

    __slots__ = ("chan", "owner", "pid", "version")

    def __init__(self, chan: wire.Channel, version: str, pid: int, owner: int) -> None:
        self.chan, self.version, self.pid, self.owner = chan, version, pid, owner


def open_channel(path: str) -> wire.Channel | None:
    """A channel to `path`; None when nothing listens there."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as exc:
        sock.close()
        raise Unreachable(f"cannot reach {path}: {exc.strerror}") from None
    return wire.Channel(sock)


def hello(path: str, env: dict[str, str]) -> Met | None:
    """Meets the service on `path` (None: none listens, or it is going away)."""
    chan = open_channel(path)
    if chan is None:
        return None
    try:
        chan.send(wire.HELLO, wire.pack([version(), *wire.pack_env(env)]))
        answer = chan.receive()
    except OSError:  # it stopped listening as we came: as if it were gone
        answer = None
    if answer is None:
        chan.close()
        return None
    if answer[0] == wire.REFUSED:
        chan.close()
        raise Refused(answer[1].decode())
    theirs, pid, owner = wire.unpack(answer[1])
    return Met(chan, theirs, int(pid), int(owner))


def stop(chan: wire.Channel, say: Callable[[str], None] | None = None) -> None:
    """Asks the service on `chan` (past its hello) to stop; returns once it
    takes no client and has finished every command it ran, however long that
    takes (it exits then). What it says meanwhile goes to `say`."""
    chan.send(wire.STOP)
    while (frame := chan.receive()) is not None:
        if frame[0] == wire.ERR and say is not None:
            say(frame[1].decode("utf-8", "replace"))
    chan.close()


def mine() -> tuple[str, Met | None]:
    """The socket of this caller's database's service, and the service if one answers."""
    env = key_env()
    path = socket_path(env)
    return path, hello(path, env)
