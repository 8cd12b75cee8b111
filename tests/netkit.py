"""Network namespaces for tests: made by the test, addressed from 198.18.0.0/15,
and removed afterwards even when the test fails. Nothing here touches the
machine's own interfaces, routes or addresses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest


def ip(*words: str, ns: str | None = None) -> str:
    argv = ["ip", *(["-n", ns] if ns else []), *words]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def in_ns(
    ns: str, *argv: str, check: bool = True, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv],
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def need_netns() -> None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")


class Namespaces:
    """Namespaces named with a per-test prefix; `link` joins two with a veth pair."""

    def __init__(self) -> None:
        self.prefix = f"ct{uuid.uuid4().hex[:6]}"
        self.made: list[str] = []

    def add(self, short: str) -> str:
        name = f"{self.prefix}{short}"
        ip("netns", "add", name)
        self.made.append(name)
        ip("link", "set", "lo", "up", ns=name)
        return name

    def link(
        self, a: str, a_dev: str, a_addr: str | None, b: str, b_dev: str, b_addr: str | None
    ) -> None:
        """A veth pair: `a_dev` in namespace a, `b_dev` in b, both up, with addresses
        (ADDRESS/PREFIX, from 198.18.0.0/15) when given."""
        tmp_a, tmp_b = f"v{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:8]}"
        ip("link", "add", tmp_a, "netns", a, "type", "veth", "peer", "name", tmp_b, "netns", b)
        for ns, tmp, dev, addr in ((a, tmp_a, a_dev, a_addr), (b, tmp_b, b_dev, b_addr)):
            ip("link", "set", tmp, "name", dev, ns=ns)
            if addr:
                ip("addr", "add", addr, "dev", dev, ns=ns)
            ip("link", "set", dev, "up", ns=ns)

    def cleanup(self) -> None:
        for name in reversed(self.made):
            pids = subprocess.run(
                ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


@contextlib.contextmanager
def namespaces() -> Iterator[Namespaces]:
    need_netns()
    made = Namespaces()
    try:
        yield made
    finally:
        made.cleanup()


def pings(ns: str, address: str, count: int = 1) -> bool:
    return (
        in_ns(ns, "busybox", "ping", "-c", str(count), "-W", "2", address, check=False).returncode
        == 0
    )
