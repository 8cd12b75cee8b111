"""The live stream ends when the service stops: an open page does not hold up a
stop (the server's shutdown would wait for a stream that never ends by itself).
A container watched anew, or lost, tells every open stream to resync."""

from __future__ import annotations

import http.client
import http.cookiejar
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import servicekit
from testkit import Cli
from webkit import Pilot, web_config


@pytest.fixture
def open_stream(
    sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hv: Any
) -> Callable[[], tuple[http.client.HTTPConnection, http.client.HTTPResponse]]:
    """Opens a logged-in page's live stream on a service with the page on."""
    from cairn.web import live

    # No keepalive comes to end the stream's wait by chance during the test.
    monkeypatch.setattr(live, "KEEPALIVE", 3600.0)
    web_config(tmp_path, monkeypatch)
    pilot = Pilot(sqlite_cli)
    jar = http.cookiejar.CookieJar()
    urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(pilot.link())
    url = urllib.parse.urlsplit(pilot.base)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    def opened() -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        stream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        stream.request("GET", "/api/events", headers={"Cookie": cookie})
        answer = stream.getresponse()
        assert answer.status == 200
        assert answer.readline() == b"retry: 1000\n"  # open: its queue is there
        return stream, answer

    return opened


def test_an_open_live_stream_ends_when_the_service_stops(open_stream: Any) -> None:
    stream, answer = open_stream()

    stopper = threading.Thread(target=servicekit.stop)
    stopper.start()
    rest = answer.read()  # until the server ends the stream (a time-out fails here)
    stopper.join(timeout=30)
    assert not stopper.is_alive(), "the service did not stop"
    assert b"keepalive" not in rest
    stream.close()


def test_a_container_watched_anew_tells_every_open_stream_to_resync(open_stream: Any) -> None:
    from cairn.lifecycle import news

    streams = [open_stream(), open_stream()]

    news.publish(news.Resync("qemu+tls://vm-container-0-7/system"))

    for stream, answer in streams:
        lines = [answer.readline() for _ in range(4)]
        assert lines[2:] == [b"event: resync\n", b"data: {}\n"], lines
        stream.close()
    servicekit.stop()
