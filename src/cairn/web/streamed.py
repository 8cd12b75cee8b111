"""A page sent in two parts: its head at once, the rest once its data is read.

The overview and the VM table read every VM before they can be shown (a
quarter of a second with 10,000). Their templates call `data()` where they
first need it; `send` renders the template in the page's pool and sends
what the template wrote before that call (the head: the stylesheet and the
deferred scripts) at once. The browser fetches those while the data is
read: on a first visit the stylesheet, which holds back the first paint,
no longer comes only after the data. The rest follows when the data is
read and rendered.

The status goes with the head, so a failure to read the data after it (the
database gone: a command's `Failed`) ends the page with that one line
instead of an error status; a failure before it is raised as from any page.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import jinja2
from aiohttp import web

from cairn.web.commands import Failed
from cairn.web.headers import secure

log = logging.getLogger("cairn.web")
_DONE = object()


async def send(
    request: web.Request,
    template: jinja2.Template,
    values: dict[str, Any],
    data: Callable[[], Any],
    pool: Executor,
) -> web.StreamResponse:
    """The page `template` renders from `values` and `data()` (read in `pool`)."""
    loop = asyncio.get_running_loop()
    parts: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:
        loop.call_soon_threadsafe(parts.put_nowait, item)

    def render() -> None:  # in the pool: the template runs as far as data(), waits, goes on
        written: list[str] = []

        def read() -> Any:
            put("".join(written))
            written.clear()
            return data()

        try:
            for chunk in template.generate(**values, data=read):
                written.append(chunk)
            put("".join(written))
            put(_DONE)
        except Exception as exc:  # handed to the loop, which answers with it
            put(exc)

    done = loop.run_in_executor(pool, render)
    response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
    secure(response)  # a stream sends its head before any middleware sees it
    try:
        while (part := await parts.get()) is not _DONE:
            if isinstance(part, Exception):
                if not response.prepared:
                    raise part
                await response.write(_failed(request, part).encode())
                break
            if not response.prepared:
                await response.prepare(request)
            await response.write(part.encode())
        await response.write_eof()
    finally:
        await done
    return response


def _failed(request: web.Request, exc: Exception) -> str:
    if isinstance(exc, Failed):
        said = str(exc)
    else:
        log.error("the page %s failed", request.path, exc_info=exc)
        said = "this page failed: the cairn service's log says why"
    return f'<p class="notice bad" id="failed">{html.escape(said)}</p>\n</main></body></html>\n'
