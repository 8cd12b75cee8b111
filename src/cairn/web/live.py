"""The live stream: VM states as server-sent events, from the watcher's news.

Each open page holds one `GET /api/events`; every state change the watcher
hears (`cairn.lifecycle.news`) is sent to all of them as an event `state`
with {"name", "state"} (to a tenant's page: of its cluster's VMs only). A
page that reads too slowly misses news and gets `resync` instead (it
reloads its data), as every page does when the watcher begins or stops
watching a container (`news.Resync`: what changed meanwhile went unheard).
A comment every KEEPALIVE seconds keeps proxies and the SSH tunnel from
closing an idle stream. When the service stops, `end` closes
every stream at once (the browser reconnects to the next service), rather
than the server's shutdown waiting for streams that never end by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

from aiohttp import web

from cairn.lifecycle import news
from cairn.web.headers import secure

KEEPALIVE = 15.0
QUEUE = 1000  # news held for one slow page before it must resync
_END = object()  # put in a stream's queue: the stream ends
MAX_STREAMS = 256


class Live:
    def __init__(self) -> None:
        self._queues: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[news.News | None]]] = set()
        self._lock = threading.Lock()
        self._unsubscribe = news.subscribe(self._heard)

    def close(self) -> None:
        self._unsubscribe()

    async def end(self) -> None:
        """Ends every open stream (on the streams' loop: the server's shutdown)."""
        with self._lock:
            queues = list(self._queues)
        for _loop, queue in queues:
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    queue.get_nowait()
            queue.put_nowait(_END)  # type: ignore[arg-type]

    def _heard(self, item: news.Item) -> None:
        told = None if isinstance(item, news.Resync) else item  # None: every page resyncs
        with self._lock:
            queues = list(self._queues)
        for loop, queue in queues:
            loop.call_soon_threadsafe(_offer, queue, told)

    async def stream(
        self, request: web.Request, names: frozenset[str] | None = None
    ) -> web.StreamResponse:
        """The stream of one page: news of the VMs `names` (None: of every VM)."""
        if len(self._queues) >= MAX_STREAMS:
            raise web.HTTPServiceUnavailable(text="too many live pages open")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        secure(response)  # a stream sends its head before any middleware sees it
        queue: asyncio.Queue[news.News | None] = asyncio.Queue(QUEUE)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:  # before the head goes: news after the page's "open" is not lost
            self._queues.add(entry)
        try:
            await response.prepare(request)
            await response.write(b"retry: 1000\n: live\n\n")
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE):
                        item = await queue.get()
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if item is _END:
                    break
                if item is None:
                    await response.write(b"event: resync\ndata: {}\n\n")
                    continue
                if names is not None and item.name not in names:
                    continue
                data = json.dumps({"name": item.name, "state": item.state})
                await response.write(f"event: state\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            with self._lock:
                self._queues.discard(entry)
        return response


def _offer(queue: asyncio.Queue[news.News | None], item: news.News | None) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                queue.get_nowait()
        queue.put_nowait(None)
