"""The boot HTTP server (cairn.netboot.httpd) as `sync config` starts it: a
real process on a loopback port, serving the TFTP root, with its bounds: so
many connections open at once, a request's head within its time."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.netboot import httpd
from testkit import wait_for

KERNEL = b"not really a kernel\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """(the server's directory, its port): 2 connections at most, a head within 1 s."""
    directory = tmp_path / "boot"
    (directory / "tftp").mkdir(parents=True)
    (directory / "tftp" / "vmlinuz").write_bytes(KERNEL)
    port = _free_port()
    httpd.ensure(directory, ["127.0.0.1"], port, connections=2, head_seconds=1)
    try:
        yield directory, port
    finally:
        httpd.stop(directory)


def _get(port: int) -> bytes:
    """GET /vmlinuz; the whole answer (b"" when the server closed it unread)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with contextlib.suppress(OSError):  # it may close on us before all is sent
            s.sendall(b"GET /vmlinuz HTTP/1.0\r\n\r\n")
        return _read_all(s)


def _read_all(s: socket.socket) -> bytes:
    got = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := s.recv(65536):
            got += chunk
    return got


def test_it_serves_a_file(served: tuple[Path, int]) -> None:
    answer = _get(served[1])
    assert answer.startswith(b"HTTP/1.0 200 ")
    assert answer.endswith(KERNEL)


def test_a_connection_over_the_bound_is_closed_and_a_slot_comes_back(
    served: tuple[Path, int],
) -> None:
    port = served[1]
    # Each idle connection says half a head line, then waits: it holds a slot.
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    try:
        for s in held:
            s.sendall(b"GET /vm")
        wait_for(lambda: _get(port) == b"", "the third connection closed unread", timeout=5)
    finally:
        for s in held:
            s.close()
    # the held slots are given back when their clients go
    assert wait_for(lambda: _get(port).endswith(KERNEL), "a slot given back", timeout=5)


def test_a_client_that_trickles_its_head_is_cut_off_at_the_head_deadline(
    served: tuple[Path, int],
) -> None:
    """One byte every 0.2 s never meets the 30 s silence of TIMEOUT; the head's
    deadline (1 s here) ends it all the same."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", served[1]), timeout=10) as s:
        line = b"GET /vmlinuz HTTP/1.0\r\n" + b"X-Slow: " + b"y" * 200
        closed = False
        for byte in line:
            try:
                s.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            # a pace, not a wait for something: the client is slow on purpose
            time.sleep(0.2)
        if not closed:
            assert _read_all(s) == b""
    assert time.monotonic() - started < 8
