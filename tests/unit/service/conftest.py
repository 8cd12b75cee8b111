"""Fixtures for the cairn service tests: real services on temp sockets.

Each service is a real `cairn watch` process bound to the test's own socket
and database, stopped (killed if need be) when the test ends, pass or fail.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from servicekit import service_pid
from testkit import CAIRN, Outcome, wait_for


def client_env(url: str, sock: Path, **extra: str) -> dict[str, str]:
    """The environment of a `cairn` client of the service on `sock`."""
    env = {k: v for k, v in os.environ.items() if k != "CAIRN_SERVICE"}
    env.update(CAIRN_DB_URL=url, CAIRN_SOCKET=str(sock), CAIRN_PLUGIN_PATH="")
    env.setdefault("CAIRN_CA_DIR", os.environ.get("CAIRN_CA_DIR", ""))
    env.update(extra)
    return env


class UnixHTTP(http.client.HTTPConnection):
    """Python's HTTP/1.1 client, over the service's Unix socket."""

    def __init__(self, sock: Path, timeout: float = 60.0) -> None:
        super().__init__("cairn", timeout=timeout)
        self.path = str(sock)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)

    def ask(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request on this connection: (status, JSON body); a str body is sent as is."""
        data = body if isinstance(body, str | bytes) else json.dumps(body).encode()
        self.request(method, path, body=b"" if body is None else data)
        response = self.getresponse()
        assert response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(response.read())


def http(sock: Path, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP/1.1 request on a connection of its own: (status, JSON body)."""
    with contextlib.closing(UnixHTTP(sock)) as conn:
        return conn.ask(method, path, body)


@dataclass
class Services:
    """Starts cairn services and cairn clients for one test; stops every
    service it started, or found on its sockets, at the end."""

    tmp: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    sockets: list[Path] = field(default_factory=list)

    def start(
        self,
        url: str,
        sock: Path,
        *params: str,
        preexec_fn: Callable[[], None] | None = None,
        **env: str,
    ) -> subprocess.Popen[str]:
        """`cairn watch PARAMS` on `sock`, once it listens; `preexec_fn` runs in
        the child before cairn (to give it limits, say)."""
        self.sockets.append(sock)
        log = open(self.tmp / f"service-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [CAIRN, "watch", *params],
            env=client_env(url, sock, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=preexec_fn,
        )
        self.procs.append(proc)
        wait_for(
            lambda: service_pid(sock) == proc.pid or proc.poll() is not None,
            f"the service on {sock}",
            timeout=60,
        )
        assert proc.poll() is None, (self.tmp / f"service-{len(self.procs) - 1}.log").read_text()
        return proc

    def run(
        self, url: str, sock: Path, *words: str, input: str | None = None, **env: str
    ) -> Outcome:
        """`cairn WORDS` as a client process (it starts a service if none runs)."""
        self.sockets.append(sock)
        done = subprocess.run(
            [CAIRN, *words],
            env=client_env(url, sock, **env),
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def stop_all(self) -> None:
        for sock in set(self.sockets):
            pid = service_pid(sock)
            # Not this process: a stand-in service in a test thread answers with it.
            if pid not in (None, os.getpid(), *(p.pid for p in self.procs)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = Services(tmp_path)
    try:
        yield s
    finally:
        s.stop_all()
