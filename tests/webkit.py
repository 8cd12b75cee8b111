"""The web page as a user reaches it: a cairn service with the page on, a real Chromium.

`Pilot` is a test's cluster on libvirt's test:///default (or a real libvirtd)
behind a service that runs its watcher and serves the page on an ephemeral
loopback port; `login()` opens the link `cairn report web` prints. The
browser is Debian's chromium, driven by Playwright (never `playwright
install`: nothing is downloaded).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import servicekit
from testkit import Cli

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# The README's pictures are taken anew only when asked, so that a test run never
# changes a tracked file: CAIRN_SCREENSHOTS=docs .venv/bin/pytest tests/unit/web
# tests/system/test_system_web.py
SHOTS = os.environ.get("CAIRN_SCREENSHOTS")
SUITE_CONFIG = Path(__file__).resolve().parent / "cairn-test.toml"


def web_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Path:
    """The suite's config file with the page on (an ephemeral loopback port)."""
    path = tmp_path / "cairn-web.toml"
    path.write_text(SUITE_CONFIG.read_text() + 'web_listen = "127.0.0.1:0"\n' + extra)
    monkeypatch.setenv("CAIRN_CONFIG", str(path))
    return path


# Two containers on test:///default, of 8 and 4 CPUs: the page's tests' cluster.
CONTAINERS = [
    "add host vm-container-0-0 appliance=vm-container cpus=8",
    "add host vm-container-0-1 appliance=vm-container cpus=4",
    "set host attr vm-container-0-0 kvm_connection test:///default",
    "set host attr vm-container-0-1 kvm_connection test:///default",
]


def pilot_with(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str]
) -> Pilot:
    """A Pilot (the page on) whose database has had these command lines run."""
    web_config(tmp_path, monkeypatch)
    pilot = Pilot(cli)
    for line in lines:
        cli.ok(*line.split())
    return pilot


class _Heard(logging.Handler):
    """What the watcher of the test's in-thread service logs (`Pilot.watched`)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


_heard = _Heard()


class Pilot:
    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        cli.here("init")  # the watcher starts on a database at cairn's schema
        watch_log = logging.getLogger("cairn.watch")
        if _heard not in watch_log.handlers:
            watch_log.addHandler(_heard)
        if watch_log.getEffectiveLevel() > logging.INFO:
            watch_log.setLevel(logging.INFO)
        _heard.said = []  # this test's watcher from now on
        self.served = servicekit.serve_watching(refresh=0.5)

    def link(self) -> str:
        return self.cli.ok("report", "web").split()[0]

    @property
    def base(self) -> str:
        return self.link().split("/login")[0]

    def watched(self) -> str:
        """What the service's watcher has logged ("watching test:///default" once
        it has subscribed, and so hears the next event; a release)."""
        return "\n".join(_heard.said)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, for one test module: while Playwright's sync API is open, the
    test process's thread counts as running an asyncio loop, and every later
    test that runs one of its own (the Airboss's, aiohttp's) would fail."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "401" not in m.text else None,
    )
    page.errors = errors
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    """A picture of the page for the README (docs/web-NAME.png), when
    CAIRN_SCREENSHOTS names the directory to put it in."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"web-{name}.png"), full_page=False)


class Frames:
    """What the page's WebSockets receive, as text, and waits on it.

    Playwright's sync API hands events over only while a call of its own
    runs: a plain Python loop polling a list the listener fills sees nothing
    new (the console's output seemed to stop after whatever arrived during
    the last Playwright call). `wait_for` therefore waits inside Playwright,
    for the next frame, until its condition holds.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.chunks: list[bytes] = []
        self.sockets: list[Any] = []
        page.on("websocket", self._opened)

    def _opened(self, ws: Any) -> None:
        self.sockets.append(ws)
        ws.on(
            "framereceived", lambda f: self.chunks.append(f if isinstance(f, bytes) else f.encode())
        )

    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float) -> None:
        """Until condition(text so far) holds; a test failure after `timeout` s."""
        from playwright.sync_api import Error as PlaywrightError

        deadline = time.monotonic() + timeout
        while not condition(self.text()):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"timed out after {timeout:g} s waiting for {what}; received"
                            f" {self.text()[-2000:]!r}")  # fmt: skip
            try:
                self.next_frame(left)
            except PlaywrightError as exc:  # the socket closed: say what came before
                pytest.fail(f"{exc} while waiting for {what}; received {self.text()[-2000:]!r}")

    def next_frame(self, seconds: float) -> None:
        """Lets Playwright deliver events until a frame arrives or `seconds` pass."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        source = self.sockets[-1] if self.sockets else self.page
        event = "framereceived" if self.sockets else "websocket"
        with contextlib.suppress(PlaywrightTimeout):
            source.wait_for_event(event, timeout=max(1.0, seconds * 1000))


class Relay:
    """A TCP relay on loopback in front of the page, as an SSH tunnel or a proxy
    is: `sever` cuts every connection through it and refuses new ones (the
    tunnel dropped) until `mend`. `url(link)`: the link, through the relay."""

    def __init__(self, base: str) -> None:
        host, _, port = base.split("//")[1].rpartition(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.severed = False
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def url(self, link: str) -> str:
        host, port = self.target
        return link.replace(f"//{host}:{port}", f"//127.0.0.1:{self.listener.getsockname()[1]}")

    def sever(self) -> None:
        with self.lock:
            self.severed = True
            ends, self.open = self.open, set()
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def mend(self) -> None:
        with self.lock:
            self.severed = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        self.listener.close()
        self.sever()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self.lock:
                try:
                    if self.severed:
                        raise ConnectionRefusedError("severed")
                    far = socket.create_connection(self.target)
                except OSError:  # severed, or the page's service is gone: refused
                    near.close()
                    continue
                self.open |= {near, far}
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
