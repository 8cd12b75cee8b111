"""A page's head goes to the browser before its data is read (cairn.web.streamed).

A small aiohttp app on a loop of its own, one page whose data waits until the
test lets it go: what a raw HTTP client receives meanwhile is the head (the
stylesheet and the deferred scripts, which a browser fetches while the data
is read), and the rest follows once the data is read.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jinja2
import pytest
from aiohttp import web

from cairn.web import streamed
from cairn.web.commands import Failed

TEMPLATE = """<!doctype html><html><head><link rel="stylesheet" href="/static/a.css">
<script src="/static/a.js" defer></script></head><body><main>
{% set rows = data() %}{% for r in rows %}<p>{{ r }}</p>{% endfor %}
</main></body></html>
"""


class Served:
    """The app on a loop in a thread; `read` is what data() answers or raises."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.read: Callable[[], Any] = lambda: ["<row 1>", "row 2"]
        self.pool = ThreadPoolExecutor(max_workers=2)
        template = jinja2.Environment(autoescape=True).from_string(TEMPLATE)

        def data() -> Any:
            if not self.go.wait(timeout=30):
                raise AssertionError("never let go")
            return self.read()

        async def page(request: web.Request) -> web.StreamResponse:
            return await streamed.send(request, template, {}, data, self.pool)

        app = web.Application()
        app.router.add_get("/", page)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(app, access_log=None)
        self._run(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self._run(site.start())
        self.port = self.runner.addresses[0][1]

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self.go.set()
        self._run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.pool.shutdown()

    def ask(self) -> socket.socket:
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return conn


@pytest.fixture
def served() -> Iterator[Served]:
    app = Served()
    yield app
    app.close()


def until(conn: socket.socket, mark: bytes, got: bytes = b"") -> bytes:
    """What `conn` sends, read until `mark` has come (or it closes)."""
    while mark not in got:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def test_the_head_comes_before_the_data_is_read_and_the_rest_after(served: Served) -> None:
    with served.ask() as conn:
        got = until(conn, b"</head>")
        assert got.startswith(b"HTTP/1.1 200") and b"Content-Security-Policy" in got
        assert b'href="/static/a.css"' in got and b"/static/a.js" in got
        assert not served.go.is_set() and b"row" not in got  # the data is still being read
        served.go.set()
        got = until(conn, b"\r\n0\r\n\r\n", got)  # the last chunk: the page is whole
    assert b"<p>&lt;row 1&gt;</p><p>row 2</p>\n</main></body></html>" in got  # autoescaped


def test_a_failure_after_the_head_ends_the_page_with_its_line(served: Served) -> None:
    def gone() -> Any:
        raise Failed(503, "the database <is> gone")

    served.read = gone
    served.go.set()
    with served.ask() as conn:
        got = until(conn, b"</html>")
    assert got.startswith(b"HTTP/1.1 200")  # the status went with the head
    assert b'<p class="notice bad" id="failed">the database &lt;is&gt; gone</p>' in got
