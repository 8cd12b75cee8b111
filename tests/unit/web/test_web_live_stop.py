"""The live stream ends when the service stops: an open page does not hold up a
stop (the server's shutdown would wait for a stream that never ends by itself)."""

from __future__ import annotations

import http.client
import http.cookiejar
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import servicekit
from testkit import Cli
from webkit import Pilot, web_config


def test_an_open_live_stream_ends_when_the_service_stops(
    sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hv: Any
) -> None:
    from cairn.web import live

    # No keepalive comes to end the stream's wait by chance during the test.
    monkeypatch.setattr(live, "KEEPALIVE", 3600.0)
    web_config(tmp_path, monkeypatch)
    pilot = Pilot(sqlite_cli)
    jar = http.cookiejar.CookieJar()
    urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)).open(pilot.link())
    url = urllib.parse.urlsplit(pilot.base)
    stream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    stream.request("GET", "/api/events", headers={"Cookie": cookie})
    answer = stream.getresponse()
    assert answer.status == 200
    assert answer.readline() == b"retry: 1000\n"  # the stream is open

    stopper = threading.Thread(target=servicekit.stop)
    stopper.start()
    rest = answer.read()  # until the server ends the stream (a time-out fails here)
    stopper.join(timeout=30)
    assert not stopper.is_alive(), "the service did not stop"
    assert b"keepalive" not in rest
    stream.close()
