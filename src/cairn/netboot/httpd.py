"""The frontend's boot HTTP server: what iPXE clients fetch their script, kernel
and initrd from (see netboot/ipxe.py). It runs as its own small process beside
dnsmasq (`python -m cairn.netboot.httpd`), started, restarted and stopped by
`ensure`/`stop` when `cairn sync config` runs, and uses the standard library
only.

It serves the TFTP root read-only: GET and HEAD of regular files whose real
path lies inside the root (no '..', no hidden names, no symbolic link out, no
directory listing). It listens only on the frontend's addresses on the served
networks, never on all addresses. It is bounded as the Airboss is: at most
`connections` (CONNECTIONS) open at once, all addresses together, a connection
over that closed unread; a request's head must arrive within HEAD_SECONDS, a
whole connection ends within CONNECTION_SECONDS, and a client that says or
reads nothing for TIMEOUT seconds is closed; so a slow or hostile client
holds one slot for a bounded time and never the others'.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TIMEOUT = 30.0
CONNECTIONS = 64  # a cluster's nodes boot at once; more wait for iPXE's retry
HEAD_SECONDS = 10.0
CONNECTION_SECONDS = 600.0  # a kernel and an initrd to a slow guest, with room
STOP_WAIT = 5.0
START_WAIT = 10.0
PID, LOG = "http.pid", "http.log"
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # Linux; the address may come later


def resolve(root: Path, url_path: str) -> Path | None:
    """The file a URL path names under `root`, or None when it names nothing there."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path)
    parts = [p for p in path.split("/") if p]
    if "\0" in path or not parts or any(p.startswith(".") for p in parts):
        return None
    real = Path(os.path.realpath(root.joinpath(*parts)))
    inside = real.is_relative_to(os.path.realpath(root))
    return real if inside and real.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    root = Path("/nonexistent")
    timeout = TIMEOUT
    server_version = "cairn-boot"
    head_seconds = HEAD_SECONDS

    def setup(self) -> None:
        super().setup()
        self.head_read = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def finish(self) -> None:
        self.done.set()
        self.head_read.set()
        super().finish()

    def parse_request(self) -> bool:
        parsed = super().parse_request()  # reads the head's header lines too
        self.head_read.set()
        return parsed

    def _watch(self) -> None:
        """Cut a connection off at its deadlines (the head's, then the whole
        connection's): each recv and send has its own TIMEOUT, but a client that
        trickles a byte at a time would never meet it."""
        started = time.monotonic()
        if self.head_read.wait(self.head_seconds):
            left = CONNECTION_SECONDS - (time.monotonic() - started)
            if self.done.wait(max(0.0, left)):
                return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        self._send(body=True)

    def do_HEAD(self) -> None:
        self._send(body=False)

    def _send(self, *, body: bool) -> None:
        found = resolve(self.root, self.path)
        if found is None:
            self.send_error(404)
            return
        try:
            handle = found.open("rb")
        except OSError:
            self.send_error(404)
            return
        with handle:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(os.fstat(handle.fileno()).st_size))
            self.end_headers()
            if body:
                shutil.copyfileobj(handle, self.wfile, 1 << 20)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a cluster's nodes boot at once
    slots = threading.BoundedSemaphore(CONNECTIONS)  # set per process by _main

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the bound: closed unread, no thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def _main(argv: list[str]) -> None:
    """Bind every address, then leave the caller (its pid in the pid file) and serve."""
    parser = argparse.ArgumentParser(prog="cairn.netboot.httpd")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--head-seconds", type=float, default=HEAD_SECONDS)
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args(argv)
    directory = Path(args.dir)
    handler = type(
        "Handler", (_Handler,), {"root": directory / "tftp", "head_seconds": args.head_seconds}
    )
    # One bound for every address the process listens on.
    server = type("Server", (_Server,), {"slots": threading.BoundedSemaphore(args.connections)})
    try:
        servers = [server((a, args.port), handler) for a in args.addresses]
    except OSError as exc:
        sys.exit(f"cannot listen on port {args.port}: {exc.strerror}")
    child = os.fork()
    if child:
        tmp = directory / f"{PID}.new"
        tmp.write_text(f"{child}\n")
        tmp.replace(directory / PID)
        os._exit(0)
    os.setsid()
    with open(os.devnull, "rb") as null, open(directory / LOG, "ab") as log:
        os.dup2(null.fileno(), 0)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def _argv(directory: Path, addresses: list[str], port: int, bounds: list[str]) -> list[str]:
    return [
        sys.executable, "-m", __name__, f"--dir={directory}", f"--port={port}", *bounds,
        *addresses,
    ]  # fmt: skip


def _package_root() -> str:
    """Where this cairn is imported from, for the child's python (a venv's, or sources')."""
    return str(Path(__file__).resolve().parents[2])


def running(directory: Path) -> tuple[int, list[str]] | None:
    """(pid, command line) of this directory's server, if it runs."""
    try:
        pid = int((directory / PID).read_text().strip())
        words = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, ValueError):
        return None
    return (pid, words[:-1]) if __name__ in words and f"--dir={directory}" in words else None


def stop(directory: Path) -> str | None:
    """End this directory's server; what happened, or None when none ran."""
    found = running(directory)
    if found is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(found[0], signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while running(directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    (directory / PID).unlink(missing_ok=True)
    return f"stopped (pid {found[0]})"


def ensure(
    directory: Path,
    addresses: list[str],
    port: int,
    *,
    connections: int = CONNECTIONS,
    head_seconds: float = HEAD_SECONDS,
) -> str:
    """The server runs on exactly these addresses and port: left as it is, started,
    or restarted; what happened. Raises OSError's message as RuntimeError."""
    bounds = [f"--connections={connections}", f"--head-seconds={head_seconds:g}"]
    argv = _argv(directory, sorted(set(addresses)), port, bounds)
    found = running(directory)
    if found is not None and found[1][1:] == argv[1:]:
        return f"running (pid {found[0]})"
    before = stop(directory)
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
        timeout=START_WAIT, env={**os.environ, "PYTHONPATH": _package_root()},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(" ".join(done.stderr.split()) or f"exit status {done.returncode}")
    now = running(directory)
    if now is None:
        raise RuntimeError(f"it started but {directory / PID} names no server")
    return f"{'restarted' if before else 'started'} (pid {now[0]})"


if __name__ == "__main__":
    _main(sys.argv[1:])
