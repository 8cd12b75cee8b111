"""A VM's serial console in the page: xterm.js over a WebSocket, to `cairn open host console`.

The console is the existing command itself, run as the `cairn` client runs
an interactive command (the service hands those back to a process with a
terminal): a process of its own on a pseudo-terminal, whose bytes this
module carries to and from the browser. Binary frames from the browser are
keys, binary frames to it are the terminal's output; a text frame to it says
why the console ended. The name is checked first to be one VM the session
may see. One console per VM at a time, as with virsh: another page takes it
over only when asked (force=yes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from cairn.web import commands

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.web")
MAX_KEYS = 64 << 10  # one frame of typing (a paste) at most
# The command as the `cairn` client runs it, in this service's environment.
_CLIENT = "import sys; from cairn.service.client import main; sys.exit(main())"


async def serve(
    request: web.Request, service: Service, check: Callable[[str], Awaitable[None]]
) -> web.StreamResponse:
    """The console of the VM the path names, once `check` lets this session see it."""
    name = request.match_info["name"]
    force = request.query.get("force") == "yes"
    ws = web.WebSocketResponse(max_msg_size=MAX_KEYS, heartbeat=20.0)
    try:
        await check(name)
    except commands.Failed as exc:
        await ws.prepare(request)
        await ws.send_str(json.dumps({"ended": str(exc)}))
        await ws.close()
        return ws
    await ws.prepare(request)
    words = ["open", "host", "console", f"host={name}", f"force={'yes' if force else 'no'}"]
    master, terminal = pty.openpty()
    env = {**os.environ, **service.env, "CAIRN_SERVICE": "off", "TERM": "xterm-256color"}
    env.pop("netns", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, *words], env=env, stdin=terminal, stdout=terminal,
        stderr=terminal, start_new_session=True, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    os.set_blocking(master, False)
    log.info("the console of %s is open in the web page (pid %d)", name, proc.pid)
    terminal_out = _Terminal(master)
    sender = asyncio.create_task(_send(ws, terminal_out, proc))
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                keys = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(master, keys)
    finally:
        sender.cancel()
        terminal_out.stop()
        await asyncio.get_running_loop().run_in_executor(None, _end, proc)
        os.close(master)
    return ws


class _Terminal:
    """The command's terminal output as a queue of chunks; reading pauses while
    the browser is QUEUE chunks behind and resumes as it catches up."""

    QUEUE = 256

    def __init__(self, master: int) -> None:
        self.master = master
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(self.QUEUE)
        self.reading = False
        self._resume()

    def _resume(self) -> None:
        if not self.reading:
            self.loop.add_reader(self.master, self._readable)
            self.reading = True

    def stop(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.master)
            self.reading = False

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the command ended and closed its terminal
            data = b""
        self.queue.put_nowait(data)
        if not data or self.queue.full():
            self.stop()

    async def get(self) -> bytes:
        data = await self.queue.get()
        if data and self.queue.qsize() < self.QUEUE // 2:
            self._resume()
        return data


async def _send(ws: web.WebSocketResponse, out: _Terminal, proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ConnectionResetError):
        while data := await out.get():
            await ws.send_bytes(data)
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait)
        ended = "the console closed" + (f" (exit status {code})" if code else "")
        await ws.send_str(json.dumps({"ended": ended}))
        await ws.close()


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
