"""A guest's serial console through libvirt's stream API (virDomainOpenConsole).

The bytes travel inside the libvirt connection itself, so a console works the
same over qemu:///system, qemu+ssh:// and qemu+tls://, as `virsh console` does,
with no daemon or port of its own. The loop is libvirt's default event loop:
stream callbacks for the guest's output, a handle on the input descriptor,
a timer for the time limit. `eventloop.register()` must run before the
connection opens, or a remote connection never reports the stream readable.

Nothing here touches a terminal or prints: output goes to the `sink` the caller
gives, input comes from the descriptor it gives (raw mode is the caller's).
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from cairn.hypervisor.connections import where
from cairn.hypervisor.errors import HypervisorError, InvalidState, classify
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE

ESCAPE = b"\x1d"  # Ctrl-], as virsh console
_CHUNK = 65536


def escape_name(key: bytes) -> str:
    """How to type the escape byte: b"\\x1d" -> "^]"."""
    return f"^{chr(key[0] + 64)}" if key and key[0] < 32 else key.decode(errors="replace")


@dataclass
class Ended:
    """Why a console session ended: "eof" (the guest's side closed), "escape",
    "time" (the time limit) or "error" (with libvirt's message in `detail`)."""

    why: str
    detail: str = ""
    received: int = 0


class _Session:
    def __init__(
        self,
        stream: libvirt.virStream,
        sink: Callable[[bytes], None],
        source: int | None,
        escape: bytes,
    ) -> None:
        self.stream = stream
        self.sink = sink
        self.source = source
        self.escape = escape
        self.ended: Ended | None = None
        self.received = 0
        self.pending = b""

    def end(self, why: str, detail: str = "") -> None:
        if self.ended is None:
            self.ended = Ended(why, detail, self.received)

    def on_stream(self, stream: libvirt.virStream, events: int, _opaque: object) -> None:
        if events & libvirt.VIR_STREAM_EVENT_READABLE:
            try:
                data = stream.recv(_CHUNK)
            except libvirt.libvirtError as exc:
                self.end("error", " ".join((exc.get_error_message() or str(exc)).split()))
                return
            if isinstance(data, int):  # -2: nothing there after all
                return
            if not data:
                self.end("eof")
                return
            self.received += len(data)
            self.sink(data)
        if events & libvirt.VIR_STREAM_EVENT_WRITABLE and self.pending:
            self._flush()
        if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
            self.end("eof")

    def on_input(self, _watch: int, fd: int, _events: int, _opaque: object) -> None:
        try:
            data = os.read(fd, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                return
            data = b""
        if not data:  # our input ended: keep showing output, stop reading input
            self.source = None
            libvirt.virEventRemoveHandle(_watch)
            return
        if self.escape and self.escape in data:
            self.pending += data[: data.index(self.escape)]
            self._flush()
            self.end("escape")
            return
        self.pending += data
        self._flush()

    def _flush(self) -> None:
        while self.pending:
            sent = self.stream.send(self.pending)
            if sent < 0:  # -2: the stream is full; wait until it is writable
                self.stream.eventUpdateCallback(
                    libvirt.VIR_STREAM_EVENT_READABLE
                    | libvirt.VIR_STREAM_EVENT_WRITABLE
                    | libvirt.VIR_STREAM_EVENT_ERROR
                    | libvirt.VIR_STREAM_EVENT_HANGUP
                )
                return
            self.pending = self.pending[sent:]
        self.stream.eventUpdateCallback(_READ_EVENTS)


_READ_EVENTS = (
    libvirt.VIR_STREAM_EVENT_READABLE
    | libvirt.VIR_STREAM_EVENT_ERROR
    | libvirt.VIR_STREAM_EVENT_HANGUP
)


def attach(
    guest: Guest,
    sink: Callable[[bytes], None],
    *,
    source: int | None = None,
    escape: bytes = ESCAPE,
    force: bool = False,
    seconds: float | None = None,
    attached: Callable[[], None] | None = None,
) -> Ended:
    """Show `guest`'s first console through `sink` until it ends (see Ended).

    `source` is a descriptor whose bytes are typed into the console (None:
    read-only). `force` takes over a console another session holds; without
    it that is refused. `attached` is called once the console is open.
    """
    dom = guest._dom
    state = guest.state()
    if state not in ACTIVE:
        raise InvalidState(
            f"{guest.name} is {state}: its console exists only while it runs"
            f" (start it with 'cairn start host vm {guest.name}')"
        )
    conn = dom.connect()
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    flags = libvirt.VIR_DOMAIN_CONSOLE_SAFE | (libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0)
    try:
        dom.openConsole(None, stream, flags)
    except libvirt.libvirtError as exc:
        _quietly(stream.abort)
        if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED and not force:
            raise HypervisorError(
                f"the console of {guest.name} is held by another session;"
                " take it over with force=yes",
                exc.get_error_code(),
            ) from None
        raise classify(exc, f"cannot open the console of {guest.name} on {where(conn)}") from None
    session = _Session(stream, sink, source, escape)
    stream.eventAddCallback(_READ_EVENTS, session.on_stream, None)
    watch = (
        libvirt.virEventAddHandle(source, libvirt.VIR_EVENT_HANDLE_READABLE, session.on_input, None)
        if source is not None
        else -1
    )
    deadline = None if seconds is None else time.monotonic() + seconds
    # A timer wakes the loop at least every 100 ms, so the deadline is seen.
    timer = libvirt.virEventAddTimeout(100, lambda *_: None, None)
    if attached is not None:
        attached()
    try:
        while session.ended is None:
            if deadline is not None and time.monotonic() >= deadline:
                session.end("time")
                break
            libvirt.virEventRunDefaultImpl()
    finally:
        libvirt.virEventRemoveTimeout(timer)
        if watch >= 0 and session.source is not None:
            libvirt.virEventRemoveHandle(watch)
        _quietly(stream.eventRemoveCallback)
        _quietly(stream.finish if session.ended and session.ended.why == "eof" else stream.abort)
    assert session.ended is not None
    return session.ended


def _quietly(call: Callable[[], object]) -> None:
    with contextlib.suppress(libvirt.libvirtError):
        call()
