"""`list host vm status=yes` asks containers side by side: one that never
answers costs its connect time-out once, not once per container before it.

A container that never answers is a TCP port whose listen queue is full: the
kernel drops each further SYN, so cairn's knock waits its whole time-out
(hypervisor/connections.py, CONNECT_TIMEOUT, 5 s).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cairn.hypervisor.connections import CONNECT_TIMEOUT

CONTAINERS = ("vm-container-0-0", "vm-container-0-1", "vm-container-0-2")


@pytest.fixture
def silent_ports() -> Iterator[list[int]]:
    """Ports on 127.0.0.1 that accept no more connections, one per container."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in CONTAINERS:
            listener = stack.enter_context(socket.socket())
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            for _ in range(4):  # past the queue: these stay in SYN-SENT, not blocking
                filler = stack.enter_context(socket.socket())
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            probe = stack.enter_context(socket.socket())
            probe.settimeout(0.5)
            with pytest.raises(TimeoutError):
                probe.connect(("127.0.0.1", port))
            ports.append(port)
        yield ports


def test_containers_that_do_not_answer_are_waited_for_side_by_side(
    lab: Any, silent_ports: list[int]
) -> None:
    for container, port in zip(CONTAINERS, silent_ports, strict=True):
        uri = f"qemu+tls://127.0.0.1:{port}/system"
        lab.cli.ok("set", "host", "attr", container, "kvm_connection", uri)
        lab.add_vm(container, f"name=silent-{container[-1]}")
    started = time.monotonic()
    listed = lab.listed("silent-*")
    took = time.monotonic() - started
    assert {r["status"] for r in listed.values()} == {"unreachable"}
    assert len(listed) == len(CONTAINERS)
    # One after another it would be 3 time-outs (15 s); side by side, one.
    assert CONNECT_TIMEOUT <= took < 2 * CONNECT_TIMEOUT, took
