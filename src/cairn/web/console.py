"""A VM's serial console in the page: xterm.js over a WebSocket, to libvirt's console stream.

The VM is found as `cairn open host console` finds it (`vms.define.one_vm`,
`lifecycle.targets.guest_of`) after the page's own check that the name is
one VM the session may see; the bytes travel through
`hypervisor.console.Attached` on the service's libvirt event loop. Binary
frames from the browser are keys, binary frames to it are the VM's output;
a text frame to it says why the console ended. One console per VM at a
time, as with virsh: another page takes it over only when asked (force).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from cairn.errors import CairnError
from cairn.web import commands

if TYPE_CHECKING:
    from cairn.hypervisor.console import Attached, Ended
    from cairn.web.app import Page

log = logging.getLogger("cairn.web")
MAX_KEYS = 64 << 10  # one frame of typing (a paste) at most
OUTPUT_QUEUE = 4096  # chunks of output held for a slow browser; then the oldest go


async def serve(request: web.Request, page: Page) -> web.StreamResponse:
    name = request.match_info["name"]
    force = request.query.get("force") == "yes"
    await page.call(page.scope_check, request, name)
    ws = web.WebSocketResponse(max_msg_size=MAX_KEYS, heartbeat=20.0)
    await ws.prepare(request)
    loop = asyncio.get_running_loop()
    output: asyncio.Queue[bytes | str] = asyncio.Queue(OUTPUT_QUEUE)

    def sink(data: bytes) -> None:  # libvirt's event thread
        loop.call_soon_threadsafe(_offer, output, data)

    def on_end(ended: Ended) -> None:
        why = ended.why + (f": {ended.detail}" if ended.detail else "")
        loop.call_soon_threadsafe(_offer, output, json.dumps({"ended": why}))

    try:
        console = await page.call(_attach, page, name, sink, on_end, force)
    except (CairnError, commands.Failed) as exc:
        await ws.send_str(json.dumps({"ended": str(exc)}))
        await ws.close()
        return ws
    sender = asyncio.create_task(_send(ws, output))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await page.call(console.send, msg.data)
            elif msg.type == WSMsgType.TEXT:
                await page.call(console.send, msg.data.encode())
    finally:
        sender.cancel()
        await page.call(console.close)
    return ws


def _attach(page: Page, name: str, sink: object, on_end: object, force: bool) -> Attached:
    from cairn.context import Context
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.console import Attached
    from cairn.hypervisor.eventloop import start_loop
    from cairn.lifecycle.targets import guest_of
    from cairn.vms.define import one_vm

    start_loop()  # the stream's callbacks run on it
    with Context(url=page.service.env["CAIRN_DB_URL"]) as ctx, Connections() as conns:
        guest = guest_of(ctx.session, one_vm(ctx.session, name), conns)
        return Attached(guest, sink, on_end, force=force)  # type: ignore[arg-type]


async def _send(ws: web.WebSocketResponse, output: asyncio.Queue[bytes | str]) -> None:
    with contextlib.suppress(ConnectionResetError):
        while True:
            item = await output.get()
            if isinstance(item, str):
                await ws.send_str(item)
                await ws.close()
                return
            await ws.send_bytes(item)


def _offer(queue: asyncio.Queue[bytes | str], item: bytes | str) -> None:
    while True:
        try:
            queue.put_nowait(item)
            return
        except asyncio.QueueFull:
            queue.get_nowait()
