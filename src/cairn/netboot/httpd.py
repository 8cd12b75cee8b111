"""The frontend's boot HTTP server: what iPXE clients fetch their script, kernel
and initrd from (see netboot/ipxe.py). It runs as its own small process beside
dnsmasq (`python -m cairn.netboot.httpd`), started, restarted and stopped by
`ensure`/`stop` when `cairn sync config` runs, and uses the standard library
only.

It serves the TFTP root read-only: GET and HEAD of regular files whose real
path lies inside the root (no '..', no hidden names, no symbolic link out, no
directory listing). It listens only on the frontend's addresses on the served
networks, never on all addresses, and a client that says nothing for TIMEOUT
seconds is closed.
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

TIMEOUT = 30.0
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

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        super().server_bind()


def _main(argv: list[str]) -> None:
    """Bind every address, then leave the caller (its pid in the pid file) and serve."""
    parser = argparse.ArgumentParser(prog="cairn.netboot.httpd")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args(argv)
    directory = Path(args.dir)
    handler = type("Handler", (_Handler,), {"root": directory / "tftp"})
    try:
        servers = [_Server((a, args.port), handler) for a in args.addresses]
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


def _argv(directory: Path, addresses: list[str], port: int) -> list[str]:
    return [sys.executable, "-m", __name__, f"--dir={directory}", f"--port={port}", *addresses]


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


def ensure(directory: Path, addresses: list[str], port: int) -> str:
    """The server runs on exactly these addresses and port: left as it is, started,
    or restarted; what happened. Raises OSError's message as RuntimeError."""
    argv = _argv(directory, sorted(set(addresses)), port)
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
