"""What an administrator does with VMs every day, on the real libvirtd with KVM.

Consoles: read through `cairn open host console` in a process of its own (no
terminal: it streams the output), on this machine's libvirtd and on a second
one (peer.py) reached through its own socket, i.e. libvirt's remote protocol.
The guests have no operating system: SeaBIOS writes to the serial console
(kvm_bios_useserial) and a reset makes it write again while cairn listens.
Disks: a running guest's disk grown, a disk hot-plugged. Snapshots: a mark
written into a qcow2 disk comes back with a revert.
"""

from __future__ import annotations

import json
import os
import pty
import select
import selectors
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_system_move import PEER_HOST, peer  # noqa: F401  (the second container)

from testkit import CAIRN, wait_for

pytestmark = pytest.mark.system

GIB = 1024**3
BOOT_TEXT = b"SeaBIOS"
WAIT = 60.0


class Console:
    """`cairn open host console VM ...` running as a process without a terminal."""

    def __init__(self, lab: Any, *words: str) -> None:
        env = {**os.environ, "CAIRN_DB_URL": lab.cli.url}
        self.proc = subprocess.Popen(
            [CAIRN, "open", "host", "console", *words],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        self.out = b""
        self.err = b""

    def _read(self, want: bytes, stream: str) -> bool:
        """Read stdout/stderr until `want` shows in `stream` or the process ends."""
        pipes = {"out": self.proc.stdout, "err": self.proc.stderr}
        deadline = time.monotonic() + WAIT
        with selectors.DefaultSelector() as sel:
            for name, pipe in pipes.items():
                assert pipe is not None
                sel.register(pipe, selectors.EVENT_READ, name)
            while want not in getattr(self, stream) and time.monotonic() < deadline:
                if not sel.get_map():
                    return False
                for key, _ in sel.select(timeout=1):
                    data = os.read(key.fd, 65536)
                    if not data:
                        sel.unregister(key.fileobj)
                    setattr(self, key.data, getattr(self, key.data) + data)
        return want in getattr(self, stream)

    def attached(self) -> None:
        assert self._read(b"Connected to", "err"), f"no console: {self.err!r}"

    def shows(self, text: bytes) -> bool:
        return self._read(text, "out")

    def ended(self) -> int:
        self._read(b"\0never\0", "out")  # to the end of its output
        return self.proc.wait(timeout=WAIT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def consoles() -> Iterator[list[Console]]:
    made: list[Console] = []
    try:
        yield made
    finally:
        for c in made:
            c.kill()


def booted_vm(lab: Any, label: str, *extra: str) -> str:
    vm = lab.add_vm(label, extra=extra)
    lab.attr(vm, "kvm_bios_useserial", "true")
    lab.run("start", "host", "vm", vm)
    return vm


def test_the_console_shows_the_guests_boot_messages_and_ends_when_the_guest_stops(
    lab: Any, consoles: list[Console], tmp_path: Path
) -> None:
    vm = booted_vm(lab, "con")
    log = tmp_path / "console.log"
    # The help's first example, as a script runs it: no terminal, so read-only.
    console = Console(lab, vm, f"log={log}")
    consoles.append(console)
    console.attached()

    lab.dom(vm).reset(0)

    assert console.shows(BOOT_TEXT), console.out[-500:]
    lab.dom(vm).destroy()
    assert console.ended() == 0, console.err  # end of file: the guest is gone
    assert BOOT_TEXT in log.read_bytes()
    assert b"read-only" in console.err


def test_a_held_console_is_refused_and_force_takes_it_over(
    lab: Any, consoles: list[Console]
) -> None:
    vm = booted_vm(lab, "held")
    first = Console(lab, vm, "readonly=yes")
    consoles.append(first)
    first.attached()

    refused = lab.cli("open", "host", "console", vm, "seconds=1")
    assert refused.code == 1
    assert "held by another session; take it over with force=yes" in refused.err

    # The help's second example's form: a time limit, read-only, logged.
    second = Console(lab, vm, "force=yes", "readonly=yes", "seconds=30")
    consoles.append(second)
    second.attached()
    assert first.ended() == 1, first.err  # its stream was taken away
    assert b"may have taken it over" in first.err
    lab.dom(vm).reset(0)
    assert second.shows(BOOT_TEXT)


def test_a_time_limit_ends_the_console(lab: Any, consoles: list[Console]) -> None:
    vm = booted_vm(lab, "limit")
    console = Console(lab, vm, "seconds=1")
    consoles.append(console)

    assert console.ended() == 0, console.err
    assert b"for 1 s" in console.err


def test_the_console_of_a_vm_on_another_libvirtd_comes_through_the_connection(
    lab: Any,
    peer: Any,  # noqa: F811
    consoles: list[Console],
) -> None:
    vm = lab.name("far")
    lab.run("add", "host", "vm", PEER_HOST, f"name={vm}", "mem=128", "disksize=1")
    lab.attr(vm, "kvm_bios_useserial", "true")
    lab.run("start", "host", "vm", vm)
    console = Console(lab, vm)
    consoles.append(console)
    console.attached()

    peer.conn.lookupByName(vm).reset(0)

    assert console.shows(BOOT_TEXT), console.out[-500:]


class TerminalConsole:
    """`cairn open host console VM` as a user runs it: on a terminal (a pty),
    through a cairn service of its own (a real `cairn watch` on a test socket)."""

    def __init__(self, lab: Any, tmp_path: Path, vm: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "CAIRN_SERVICE"}
        self.env.update(CAIRN_DB_URL=lab.cli.url, CAIRN_SOCKET=str(tmp_path / "cairn.sock"))
        self.log = tmp_path / "service.log"
        with self.log.open("w") as log:
            self.service = subprocess.Popen(
                [CAIRN, "watch", "watch=no"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.proc: subprocess.Popen[bytes] | None = None
        self.fd = -1
        self.seen = b""
        self.vm = vm

    def open(self) -> None:
        wait_for(lambda: "listening on" in self.log.read_text(), "the cairn service", WAIT)
        self.fd, terminal = pty.openpty()
        try:
            self.proc = subprocess.Popen(
                [CAIRN, "open", "host", "console", self.vm], env=self.env,
                stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(terminal)

    def shows(self, want: bytes) -> bool:
        """Reads the terminal until `want` shows on it, or it closes."""
        deadline = time.monotonic() + WAIT
        while want not in self.seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 1)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the console's process closed the terminal
                    data = b""
                if not data:
                    break
                self.seen += data
        return want in self.seen

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def close(self) -> None:
        for proc in (self.proc, self.service):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.fd >= 0:
            os.close(self.fd)


def test_on_a_terminal_the_console_attaches_through_the_service_and_the_escape_key_ends_it(
    lab: Any, tmp_path: Path
) -> None:
    vm = booted_vm(lab, "tty")
    console = TerminalConsole(lab, tmp_path, vm)
    try:
        console.open()
        assert console.shows(b"(Escape character is ^])"), console.seen.decode()
        lab.dom(vm).reset(0)
        assert console.shows(BOOT_TEXT), console.seen[-500:]
        console.type(b"\x1d")  # ^]
        assert console.proc is not None
        assert console.proc.wait(timeout=WAIT) == 0, console.seen[-500:]
        assert b"no cairn service" not in console.seen  # it asked the service first

        # It let the console go: the next session, through the same service, gets it.
        again = subprocess.run(
            [CAIRN, "open", "host", "console", vm, "seconds=1"], env=console.env,
            stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert b"Connected to" in again.stderr
        assert console.service.poll() is None
    finally:
        console.close()
    assert console.service.returncode == 0, console.log.read_text()


def test_growing_the_disk_of_a_running_guest_grows_what_the_guest_sees(lab: Any) -> None:
    vm = booted_vm(lab, "grow")
    (path,) = [p for p in lab.dom(vm).XMLDesc(0).split("'") if p.endswith(".vda")]
    assert lab.dom(vm).blockInfo(path)[0] == GIB

    lab.run("set", "host", "vm", vm, "disksize=3")

    assert lab.dom(vm).blockInfo(path)[0] == 3 * GIB  # QEMU's own view, live
    (row,) = json.loads(
        lab.run("list", "host", "vm", vm, "showdisks=yes", "status=yes", "output-format=json")
    )
    assert (row["disksize"], row["realsize"]) == (3, "3G")
    shrink = lab.cli("set", "host", "vm", vm, "disksize=2")
    assert shrink.code == 1 and "cannot shrink" in shrink.err
    assert lab.dom(vm).blockInfo(path)[0] == 3 * GIB


def test_a_disk_added_to_a_running_guest_is_hot_plugged(lab: Any) -> None:
    vm = booted_vm(lab, "plug")
    extra = lab.dir / f"{vm}.data"

    out = lab.run("add", "host", "vm", "disk", vm, f"disk=qcow2:{extra}", "disksize=2")

    assert "hot-plugged" in out
    live = lab.dom(vm).XMLDesc(0)
    assert f"<source file='{extra}'" in live and "<target dev='vdb' bus='virtio'/>" in live
    assert lab.dom(vm).blockInfo(str(extra))[0] == 2 * GIB


def qemu_io(path: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", command, str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_revert_brings_back_the_mark_the_disk_held_at_the_snapshot(lab: Any) -> None:
    disk = lab.dir / "snap.qcow2"
    vm = lab.add_vm("snap", extra=(f"disk=qcow2:{disk}",))
    lab.run("start", "host", "vm", vm)
    lab.run("stop", "host", "vm", vm)
    assert qemu_io(disk, "write -P 0x41 0 4k").returncode == 0  # the first mark

    lab.run("add", "host", "vm", "snapshot", vm, "marked", "description=first mark")
    assert qemu_io(disk, "write -P 0x42 0 4k").returncode == 0  # changed
    assert "Pattern verification failed" in qemu_io(disk, "read -P 0x41 0 4k").stdout
    lab.run("revert", "host", "vm", "snapshot", vm, "marked")

    found = qemu_io(disk, "read -P 0x41 0 4k")
    assert found.returncode == 0 and "Pattern verification failed" not in found.stdout
    (row,) = json.loads(lab.run("list", "host", "vm", "snapshot", vm, "output-format=json"))
    assert (row["snapshot"], row["current"], row["description"]) == ("marked", "yes", "first mark")


def test_a_running_guest_reverted_to_a_snapshot_taken_while_off_is_released(lab: Any) -> None:
    lab.plugins()
    disk = lab.dir / "rev.qcow2"
    vm = lab.add_vm("rev", extra=(f"disk=qcow2:{disk}",))
    lab.run("start", "host", "vm", vm)
    lab.run("stop", "host", "vm", vm)
    lab.run("add", "host", "vm", "snapshot", vm, "cold")
    lab.run("start", "host", "vm", vm)

    row = lab.verb("revert", "host", "vm", "snapshot", vm, "cold")

    assert row["result"].startswith("reverted (off now, released")
    assert not lab.dom(vm).isActive()
    assert lab.plugin_calls()[-1] == f"disallocate {vm} reverted"
