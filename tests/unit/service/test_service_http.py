"""HTTP on the service's socket, as a client sees it: hostile requests get a JSON
400 and the service answers the next; idle clients cost no thread and are let
go; keep-alive, chunked bodies and Expect work; what cannot run through the
API says why. Real services, real sockets, Python's own HTTP client."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import textwrap
from collections.abc import Iterator
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import pytest

from cairn.service.api import MAX_BODY, WORKERS
from cairn.service.httpd import IDLE_TIMEOUT, MAX_CONNECTIONS
from conftest import Services, http
from testkit import Cli, build_cluster, wait_for


@pytest.fixture
def sock(sqlite_cli: Cli, services: Services, tmp_path: Path) -> Path:
    build_cluster(sqlite_cli)
    path = tmp_path / "cairn.sock"
    services.start(sqlite_cli.url, path, "watch=no")
    return path


@contextlib.contextmanager
def raw(sock: Path) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        wait_for(lambda: _connected(s, sock), "room in the socket's backlog")
        yield s


def _connected(s: socket.socket, sock: Path) -> bool:
    try:
        s.connect(str(sock))
    except BlockingIOError:  # many connections at once: the backlog is full for now
        return False
    return True


def response(s: socket.socket, method: str = "POST") -> tuple[int, Any]:
    """The next response on a raw socket: (status, JSON body)."""
    answer = HTTPResponse(s, method=method)
    answer.begin()
    return answer.status, json.loads(answer.read())


def exchange(sock: Path, request: bytes) -> tuple[int, Any]:
    with raw(sock) as s:
        s.sendall(request)
        return response(s)


def post(body: bytes, *headers: str) -> bytes:
    head = ["POST /v1/list/host HTTP/1.1", "Host: cairn", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def hosts_answered(sock: Path) -> bool:
    code, answer = http(sock, "POST", "/v1/list/host", {"args": ["compute-0-0"]})
    return code == 200 and answer["rows"][0]["host"] == "compute-0-0"


HOSTILE = {
    "a negative Content-Length": post(b'{"args": []}', "Content-Length: -1"),
    "a Content-Length over the bound": post(b"", f"Content-Length: {MAX_BODY + 1}"),
    "a chunked body over the bound": post(
        chunked(b'{"args": ["' + b"x" * (MAX_BODY // 2), b"x" * (MAX_BODY // 2) + b'"]}'),
        "Transfer-Encoding: chunked",
    ),
    "a 5,000-digit integer": post(b'{"args": [' + b"7" * 5000 + b"]}"),
    "JSON nested 100,000 deep": post(b"[" * 100_000 + b"]" * 100_000),
    "a lone surrogate": post(b'{"args": ["\\ud800"]}'),
    "a lone surrogate in a name": post(b'{"params": {"\\udfff": "x"}}'),
    "bytes that are not UTF-8": post(b'{"args": ["\xff"]}'),
    "a surrogate in UTF-8": post(b'{"args": ["\xed\xa0\x80"]}'),
    "Infinity": post(b'{"args": [Infinity]}'),
}


@pytest.mark.parametrize("what", HOSTILE)
def test_a_hostile_request_gets_a_json_400_and_the_next_is_answered(sock: Path, what: str) -> None:
    code, answer = exchange(sock, HOSTILE[what])
    assert code == 400, answer
    assert set(answer) <= {"error", "status"} and "\n" not in answer["error"]
    assert hosts_answered(sock)


def test_two_requests_on_one_connection(sock: Path) -> None:
    with raw(sock) as s:
        s.sendall(post(b'{"args": ["compute-0-0"]}'))
        assert response(s)[0] == 200
        s.sendall(post(b'{"args": ["compute-0-1"]}'))
        code, answer = response(s)
    assert code == 200 and [r["host"] for r in answer["rows"]] == ["compute-0-1"]


def test_a_chunked_body_and_expect_100_continue(sock: Path) -> None:
    body = chunked(b'{"args": ["comp', b'ute-0-1"], "params": {"output-header": false}}')
    code, answer = exchange(sock, post(body, "Transfer-Encoding: chunked"))
    assert code == 200 and [r["host"] for r in answer["rows"]] == ["compute-0-1"]

    data = b'{"args": ["compute-0-0"]}'
    with raw(sock) as s:
        s.sendall(post(b"", "Expect: 100-continue", f"Content-Length: {len(data)}"))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")  # before any body
        s.sendall(data)
        code, answer = response(s)
    assert code == 200 and answer["rows"][0]["host"] == "compute-0-0"

    # A body over the bound is refused before it is sent.
    too_big = post(b"", "Expect: 100-continue", f"Content-Length: {MAX_BODY + 1}")
    assert exchange(sock, too_big)[0] == 400


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_idle_clients_cost_no_thread_and_are_let_go(sock: Path, services: Services) -> None:
    pid = services.procs[0].pid
    assert hosts_answered(sock)
    before = threads(pid)
    with contextlib.ExitStack() as stack:
        idle = []
        for n in range(200):
            s = stack.enter_context(raw(sock))
            if n % 2:  # half a request, never finished
                s.sendall(b"POST /v1/list/host HTTP/1.1\r\nHost: cairn\r\n")
            else:  # a whole one, answered, then the connection kept open and idle
                s.sendall(post(b"{}"))
                assert response(s)[0] == 200
            idle.append(s)
        slow = stack.enter_context(raw(sock))  # a body that never all arrives
        slow.sendall(post(b'{"args": [', "Content-Length: 100"))
        assert hosts_answered(sock)
        assert threads(pid) < before + 20, f"{threads(pid)} threads, {before} before"
        # Each is closed by the service once idle for IDLE_TIMEOUT.
        for s in idle:
            s.settimeout(IDLE_TIMEOUT * 4)
            assert s.recv(1) == b""
        code, answer = response(slow)
        assert code == 408 and "did not arrive" in answer["error"]
    assert hosts_answered(sock)


def test_a_command_that_waits_does_not_hold_up_the_others(
    sqlite_cli: Cli, sock: Path, tmp_path: Path
) -> None:
    """A writer waits for the database's lock (held here); readers are answered."""
    import sqlite3
    import threading

    # The service's engines for reading and writing are made first: making one
    # while the lock is held here would hold up every session (db/session.py).
    assert hosts_answered(sock)
    assert (
        http(sock, "POST", "/v1/set/host/attr", {"args": ["compute-0-0", "colour", "red"]})[0]
        == 200
    )
    held = sqlite3.connect(sqlite_cli.url.removeprefix("sqlite:///"), isolation_level=None)
    held.execute("BEGIN IMMEDIATE")
    answers: list[tuple[int, Any]] = []
    body = {"args": ["compute-0-0", "colour"], "params": {"value": "blue"}}
    writer = threading.Thread(
        target=lambda: answers.append(http(sock, "POST", "/v1/set/host/attr", body))
    )
    try:
        writer.start()
        for _ in range(3 * WORKERS):  # more than the pool: none waits behind the writer
            assert hosts_answered(sock)
        assert not answers and writer.is_alive()
    finally:
        held.execute("ROLLBACK")
        held.close()
        writer.join(timeout=60)
    assert answers and answers[0][0] == 200


def test_connections_beyond_the_bound_get_a_503(sock: Path) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            s = stack.enter_context(raw(sock))
            s.sendall(b"POST /v1/list/host HTTP/1.1\r\n")
        # The last of them is served once the service has taken it.
        s.sendall(b"Host: cairn\r\nContent-Length: 2\r\n\r\n{}")
        assert response(s)[0] == 200
        code, answer = exchange(sock, post(b"{}"))
        assert code == 503 and "too many" in answer["error"]
    wait_for(lambda: hosts_answered(sock), "an answer once the connections closed", timeout=30)


def test_a_command_that_needs_a_terminal_is_refused(sock: Path) -> None:
    code, answer = http(sock, "POST", "/v1/open/host/console", {"args": ["hosted-vm-0-0-0"]})
    assert code == 400 and "cairn client" in answer["error"]


def test_an_internal_failure_is_a_500_and_the_api_goes_on(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    """A plugin runs inside the service; one that exits is no reason for the
    service, or its HTTP server, to stop answering."""
    build_cluster(sqlite_cli)
    sqlite_cli.ok("add", "host", "interface", "vm-container-0-0", "eth0", "subnet=private")
    sqlite_cli.ok("add", "host", "vm", "vm-container-0-0", "subnet=private")
    plugins = tmp_path / "plugins"
    hook = plugins.joinpath("report", "host", "vm", "config")
    hook.mkdir(parents=True, mode=0o755)
    (hook / "plugin_disk.py").write_text(
        textwrap.dedent("""
            import sys
            def run(elements, vm):
                sys.exit("the plugin gave up")
        """)
    )
    path = tmp_path / "cairn.sock"
    services.start(sqlite_cli.url, path, "watch=no", CAIRN_PLUGIN_PATH=str(plugins))
    vm = "hosted-vm-0-0-0"
    code, answer = http(path, "POST", "/v1/report/host/vm/config", {"args": [vm]})
    assert code == 500, answer
    assert "report host vm config" in answer["error"] and "SystemExit" in answer["error"]
    assert "\n" not in answer["error"]
    log = (tmp_path / "service-0.log").read_text()
    assert "Traceback" in log and "the plugin gave up" in log
    assert hosts_answered(path)
