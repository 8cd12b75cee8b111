"""This machine's libvirtd, for system tests that restart it (no systemd here).

Stopped and started by pid; a test that restarts it must leave it running
(the `daemon` fixture of conftest.py sees to that).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import testkit
from testbed import daemon_env

URI = "qemu:///system"
MARKER = Path("/run/libvirt/qemu/autostarted")
QEMU_RUN = Path("/run/libvirt/qemu")
PIDFILE = Path("/run/libvirtd.pid")
DEADLINE = 60.0


def wait_for(
    condition: Callable[[], Any], what: str | Callable[[], str], timeout: float = DEADLINE
) -> Any:
    return testkit.wait_for(condition, what, timeout, every=0.05)


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def libvirtd_pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return None
    return pid if comm == "libvirtd" and not gone(pid) else None


def answers() -> bool:
    done = subprocess.run(
        ["virsh", "-c", URI, "version"], capture_output=True, timeout=30, check=False
    )
    return done.returncode == 0


def qemu_pid(vm: str) -> int:
    return int((QEMU_RUN / f"{vm}.pid").read_text().strip())


def kill_hard(pid: int, what: str) -> None:
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), f"{what} (pid {pid}) to die")


class Daemon:
    """The machine's libvirtd, stopped and started by pid (there is no systemd)."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder  # the conftest's Virt: reopens its connection once it is dead
        self.marker_removed = False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        pid = libvirtd_pid()
        assert pid is not None, "libvirtd is not running"
        os.kill(pid, sig)
        wait_for(lambda: gone(pid), f"libvirtd (pid {pid}) to exit")

    def forget_autostart(self) -> None:
        """What a reboot does to /run: libvirtd will autostart domains when it starts."""
        assert MARKER.exists(), f"{MARKER} is not there: is this libvirt 9's autostart marker?"
        MARKER.unlink()
        self.marker_removed = True

    def start(self) -> None:
        assert libvirtd_pid() is None, "libvirtd is already running"
        subprocess.run(
            ["libvirtd", "-d"],
            env=daemon_env(),  # its log as /etc/libvirt/libvirtd.conf says, not /dev/null
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            check=True,
            timeout=60,
        )
        wait_for(answers, "libvirtd to answer (virsh version)")
        self._settle_connection()

    def _settle_connection(self) -> None:
        """Make the shared connection notice the restart (isAlive() trusts a dead
        socket until a call fails on it) so that its next use reopens it."""
        import libvirt

        for _ in range(2):
            try:
                self.holder.conn.getLibVersion()
                return
            except libvirt.libvirtError:
                continue  # the old daemon's connection: now known dead
        pytest.fail("cannot use qemu:///system after restarting libvirtd")

    def ensure_running(self) -> None:
        if libvirtd_pid() is None:
            if self.marker_removed and not MARKER.exists():
                # Failed half way: do not let the daemon autostart the host's domains.
                MARKER.touch(mode=0o600)
            self.start()
        wait_for(answers, "libvirtd to answer again")
        self._settle_connection()
