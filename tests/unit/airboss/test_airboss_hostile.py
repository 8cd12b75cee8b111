"""The Airboss under a hostile crowd: thousands of malformed, oversized, slow,
truncated, replayed and wrongly signed requests on its real port. None gets a
traceback into the log or holds its connection past the time bound; the
service stays up and root's commands are answered all along."""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.airboss import envelope, keys
from testkit import wait_for

REQUEST_SECONDS = 2  # the lab's [airboss] request_seconds
SLACK = 3.0  # what a loaded 2-core machine may add to a bound


def _hostile(lab, n: int) -> list[tuple[str, bytes]]:
    rng = random.Random(20)
    owner = keys.load_private(lab.owner.key)
    stranger = keys.load_private(lab.tenant("stranger").key)
    good = envelope.sign(owner, "macs", "vc")
    assert lab.send(good) == ""  # accepted once: every later copy is a replay
    prefix = envelope.MAGIC
    made: list[tuple[str, bytes]] = []
    for i in range(n):
        kind = i % 10
        if kind == 0:
            made.append(("garbage", rng.randbytes(rng.randint(0, 3000))))
        elif kind == 1:
            made.append(("http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        elif kind == 2:
            made.append(("huge", prefix + struct.pack(">I", 0xFFFFFFFF) + rng.randbytes(64)))
        elif kind == 3:
            made.append(("truncated", good[: rng.randint(0, len(good) - 1)]))
        elif kind == 4:
            made.append(("replayed", good))
        elif kind == 5:
            made.append(("unbound key", envelope.sign(stranger, "power", "vc", {"action": "off"})))
        elif kind == 6:
            flipped = bytearray(good)
            flipped[rng.randrange(len(good))] ^= 1 << rng.randrange(8)
            made.append(("flipped", bytes(flipped)))
        elif kind == 7:
            made.append(("trailing", good + rng.randbytes(rng.randint(1, 100))))
        elif kind == 8:
            size = envelope.MAX_SIGNED + rng.randint(1, 1 << 20)
            made.append(("oversized", prefix + struct.pack(">I", size) + b"x" * 4096))
        else:
            made.append(("magic only", prefix[: rng.randint(0, len(prefix))]))
    return made


def _slow(port: int, seconds: float) -> float:
    """A client that sends a byte now and then and never finishes: how long
    until the Airboss closes it."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + SLACK * 3) as s:
        try:
            for byte in envelope.MAGIC:
                s.sendall(bytes([byte]))
                time.sleep(0.4)
            while s.recv(4096):
                pass
        except OSError:
            pass
    return time.monotonic() - start


def test_two_thousand_hostile_requests(lab, caplog) -> None:
    caplog.set_level(logging.INFO)
    requests = _hostile(lab, 2000)
    answered: list[float] = []
    stop = threading.Event()

    failed: list[str] = []

    def root_commands() -> None:
        while not stop.is_set():
            start = time.monotonic()
            done = lab.cli("list", "host")
            if done.code != 0 or "vc-compute-0" not in done.out:
                failed.append(done.err)
            answered.append(time.monotonic() - start)

    def one(item: tuple[str, bytes]) -> tuple[str, float, str]:
        start = time.monotonic()
        error = lab.send(item[1], timeout=REQUEST_SECONDS + SLACK)
        return item[0], time.monotonic() - start, error

    worker = threading.Thread(target=root_commands)
    worker.start()
    # a crowd holds connections open, sending nothing, all along
    crowd = [socket.create_connection(("127.0.0.1", lab.port)) for _ in range(50)]
    try:
        with ThreadPoolExecutor(8) as pool:
            slow = [pool.submit(_slow, lab.port, REQUEST_SECONDS) for _ in range(4)]
            outcomes = list(pool.map(one, requests))
            slow_seconds = [f.result() for f in slow]
    finally:
        stop.set()
        worker.join(timeout=60)
        for s in crowd:
            s.close()
    assert all(error for _, _, error in outcomes), [o for o in outcomes if not o[2]][:3]
    assert max(seconds for _, seconds, _ in outcomes) < REQUEST_SECONDS + SLACK
    assert all(REQUEST_SECONDS - 0.5 < s < REQUEST_SECONDS + SLACK for s in slow_seconds)
    assert failed == [] and len(answered) >= 3 and max(answered) < 10
    by_kind = {kind: error for kind, _, error in outcomes}
    assert "replayed" in by_kind["replayed"]
    assert "not bound" in by_kind["unbound key"]
    assert by_kind["huge"].startswith("request of 4294967295 bytes")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []
    assert len(lab.audit()) >= 2000
    # the service is up and answers root and tenants alike
    assert "vc" in lab.cli.ok("list", "cluster")
    assert lab.call(lab.owner, "macs", "vc")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048), cut=st.booleans())
def test_fuzz_the_port(lab, caplog, data: bytes, cut: bool) -> None:
    payload = envelope.MAGIC + data if cut else data
    error = lab.send(payload, timeout=REQUEST_SECONDS + SLACK)
    assert error and "\n" not in error
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("airboss_config", ["connections = 5\n"], indirect=True)
def test_connections_over_the_bound_are_closed_until_some_end(lab) -> None:
    idle = [socket.create_connection(("127.0.0.1", lab.port)) for _ in range(5)]
    try:
        wait_for(lambda: lab.send(b"x") == "closed", "a sixth connection closed unread")
        audited = len(lab.audit())
        assert lab.send(envelope.sign(keys.load_private(lab.owner.key), "macs", "vc")) == "closed"
        assert len(lab.audit()) == audited
    finally:
        for s in idle:
            s.close()
    wait_for(lambda: lab.send(b"x") != "closed", "a connection taken again", timeout=15)
    assert lab.call(lab.owner, "macs", "vc")
