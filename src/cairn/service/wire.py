"""The client protocol: tagged frames, both ways, on a Unix stream socket.

A frame is one tag byte, a 4-byte big-endian length and that many bytes. No
JSON here: the client must start in a few milliseconds, and `json` alone
costs more than the rest of it (it imports `re`). Texts are UTF-8; lists of
words are joined with NUL, which no argument can hold.

Client -> service, first `h` (hello): VERSION NUL KEY=VALUE NUL ... (the
caller's key environment). The service answers `h`: VERSION NUL PID NUL UID,
or `!` (refused): MESSAGE. Then one request: `r` (run): TTY-FLAG WORD NUL
WORD..., `b` (batch): TTY-FLAG LINES, or `s` (stop). The service sends `o`
(stdout text) and `e` (stderr text) frames and ends with `x` (exit): STATUS,
or answers `l` alone: an interactive command, for the client to run itself.
A connection that ends before `x` means the service died during the command.
The first byte of a hello, `h`, also tells it apart from an HTTP request.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs the client time
if TYPE_CHECKING:
    from typing import Protocol

    class Socket(Protocol):
        def recv(self, size: int, /) -> bytes: ...
        def sendall(self, data: bytes, /) -> None: ...
        def close(self) -> None: ...


HELLO, REFUSED, RUN, BATCH, STOP = b"h", b"!", b"r", b"b", b"s"
OUT, ERR, EXIT, LOCAL = b"o", b"e", b"x", b"l"
MAX_FRAME = 1 << 30


class Channel:
    """Frames over a connected stream socket (`socket.socket` or `_socket.socket`)."""

    def __init__(self, sock: Socket) -> None:
        self.sock = sock
        self._buffer = bytearray()  # deleting from its front is cheap in CPython

    def send(self, tag: bytes, payload: bytes = b"") -> None:
        head = tag + len(payload).to_bytes(4, "big")
        if len(payload) < 1 << 16:
            self.sock.sendall(head + payload)
        else:  # a long one is not copied to put the head in front
            self.sock.sendall(head)
            self.sock.sendall(payload)

    def receive(self) -> tuple[bytes, bytes] | None:
        """The next (tag, payload), None at the end of the stream."""
        head = self._read(5)
        if head is None:
            return None
        size = int.from_bytes(head[1:], "big")
        if size > MAX_FRAME:
            raise ValueError("frame too large")
        payload = self._read(size)
        if payload is None:
            return None
        return head[:1], payload

    def _read(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            chunk = self.sock.recv(max(1 << 16, min(size - len(self._buffer), 1 << 22)))
            if not chunk:
                return None
            self._buffer += chunk
        with memoryview(self._buffer) as view:  # one copy, not a slice and then bytes
            data = bytes(view[:size])
        del self._buffer[:size]
        return data

    def close(self) -> None:
        self.sock.close()


def pack(fields: list[str]) -> bytes:
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def unpack(payload: bytes) -> list[str]:
    return payload.decode("utf-8", "surrogateescape").split("\0") if payload else []


def pack_env(env: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(env.items())]


def unpack_env(fields: list[str]) -> dict[str, str]:
    return dict(f.partition("=")[::2] for f in fields)
