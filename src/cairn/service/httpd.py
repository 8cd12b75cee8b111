"""The service's HTTP server: aiohttp on one asyncio loop, in a thread of the service.

What belongs here is HTTP itself: taking over a connection the service
accepted (`take`), its bounds (connections, read timeouts; header sizes are
aiohttp's: 8 KiB a line, 128 headers), and answering in JSON when a request is
not HTTP that can be read. What a request does is `cairn.service.api`'s.

Why aiohttp (and not uvicorn with Starlette): the service accepts every
connection on its one Unix socket itself and looks at the first byte to tell
its own protocol from HTTP, so the HTTP server must serve a socket that is
already accepted. aiohttp does that with the standard library's
`loop.connect_accepted_socket` and an HTTP protocol factory (a request handler
of an `AppRunner`'s server); uvicorn serves only listening sockets it accepts
on itself. aiohttp is also one library for what the coming web page needs
(routes, server-sent events through `StreamResponse`, WebSockets through
`WebSocketResponse`, Jinja2 through aiohttp-jinja2) and it parses HTTP/1.1
with keep-alive, chunked bodies and `Expect: 100-continue`.

The loop and its thread start with the first HTTP connection, so a service
that only ever serves `cairn` clients never loads aiohttp; the thin client
never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import TYPE_CHECKING

from aiohttp import web

from cairn.service.api import error_body, make_app, send_json

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.service")

# An idle connection (no request, or half of one) is closed after this long.
IDLE_TIMEOUT = 15.0
# More open HTTP connections than this are refused with 503 until some close.
MAX_CONNECTIONS = 512
_HANDOVER_TIMEOUT = 10.0


class _Handler(web.RequestHandler):
    """aiohttp's HTTP/1.1 connection, answering what it cannot parse in JSON."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            log.error("an HTTP request failed", exc_info=exc)
            said = "cairn failed to answer; the service's log says why"
        else:
            log.info("a bad HTTP request: %s", message or exc)
            text = message or (str(exc) if exc else "") or "it could not be read"
            said = f"not an HTTP/1.1 request: {text}"
        response = web.Response(
            status=status, text=error_body(said), content_type="application/json"
        )
        response.force_close()
        return response


class Server:
    """One asyncio loop serving every HTTP connection of one service."""

    def __init__(self, service: Service) -> None:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="cairn-http", daemon=True
        )
        self._thread.start()
        ready.wait()
        self._runner = web.AppRunner(make_app(service), handle_signals=False)
        asyncio.run_coroutine_threadsafe(self._runner.setup(), self._loop).result()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def _protocol(self) -> _Handler:
        server = self._runner.server
        assert server is not None  # set up in __init__
        return _Handler(
            server,
            loop=self._loop,
            keepalive_timeout=IDLE_TIMEOUT,
            tcp_keepalive=False,  # a Unix socket
            access_log=None,  # type: ignore[arg-type]  # None turns the access log off
            auto_decompress=False,  # a compressed body is not inflated past the size bound
            lingering_time=1.0,
        )

    def take(self, conn: socket.socket) -> None:
        """Serves `conn` from now on, on the loop; returns once it is adopted
        (or refused: MAX_CONNECTIONS are open)."""
        conn.setblocking(False)
        adopt = asyncio.run_coroutine_threadsafe(self._adopt(conn), self._loop)
        if adopt.result(timeout=_HANDOVER_TIMEOUT):
            return
        log.warning("%d HTTP connections open: refusing another", MAX_CONNECTIONS)
        conn.settimeout(1.0)
        with contextlib.suppress(OSError), contextlib.closing(conn):
            send_json(conn, 503, {"error": "too many HTTP connections; try again later"})

    async def _adopt(self, conn: socket.socket) -> bool:
        server = self._runner.server
        assert server is not None
        if len(server.connections) >= MAX_CONNECTIONS:
            return False
        await self._loop.connect_accepted_socket(self._protocol, conn)
        return True


_server: Server | None = None
_server_lock = threading.Lock()


def take(service: Service, conn: socket.socket) -> None:
    """Hands an accepted HTTP connection to the service's HTTP server (started
    by the first one). The connection is the server's from then on: `conn` is
    left detached, so closing it closes nothing."""
    global _server
    with _server_lock:
        if _server is None:
            _server = Server(service)
        server = _server
    server.take(socket.socket(fileno=conn.detach()))
