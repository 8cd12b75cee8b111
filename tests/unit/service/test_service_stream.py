"""A long listing streams through the service: rows leave a chunk at a time,
while the command still reads, instead of as one reply at the end."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from cairn.cli.render import CHUNK
from cairn.db import models
from cairn.db.engine import make_engine
from cairn.service import wire
from cairn.service.address import key_env, version
from conftest import Services, client_env


def _many_hosts(url: str, count: int) -> None:
    engine = make_engine(url, writes=True)
    with engine.begin() as conn:
        app, os_id = conn.execute(select(models.Host.appliance_id, models.Host.os_id)).first()
        conn.execute(
            insert(models.Host),
            [{"name": f"n-{i}", "appliance_id": app, "os_id": os_id} for i in range(count)],
        )
        conn.execute(
            insert(models.GlobalAttr), [{"name": f"g_{i}", "value": f"v{i}"} for i in range(40)]
        )
    engine.dispose()


def _frames(sock: Path, url: str, words: list[str]) -> list[tuple[bytes, bytes]]:
    """Every frame the service sends for `words`, up to and with its exit."""
    import os

    saved = dict(os.environ)
    os.environ.update(client_env(url, sock))
    try:
        env = key_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
        chan = wire.Channel(s)
        chan.send(wire.HELLO, wire.pack([version(), *wire.pack_env(env)]))
        assert chan.receive()[0] == wire.HELLO  # type: ignore[index]
        chan.send(wire.RUN, b"0" + wire.pack(words))
        frames = []
        while (frame := chan.receive()) is not None:
            frames.append(frame)
            if frame[0] == wire.EXIT:
                break
    return frames


def test_all_attributes_of_many_hosts_leave_a_chunk_at_a_time(
    sqlite_example_cluster: Any, services: Services, tmp_path: Path
) -> None:
    url = sqlite_example_cluster.url
    _many_hosts(url, 800)
    sock = tmp_path / "cairn.sock"
    services.start(url, sock, "watch=no")
    frames = _frames(sock, url, ["list", "host", "attr"])
    assert frames[-1] == (wire.EXIT, b"0")
    out = [payload for tag, payload in frames if tag == wire.OUT]
    text = b"".join(out).decode()
    rows = text.count("\n") - 1
    assert rows > 3 * CHUNK
    # One reply at the end would be a frame per MiB; streamed, it is one
    # (or more) per chunk of rows, sent as each chunk is read.
    assert len(out) >= rows // CHUNK + 1 > len(text.encode()) // (1 << 20) + 1
    assert text == sqlite_example_cluster.ok("list", "host", "attr")  # as in-process
