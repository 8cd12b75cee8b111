"""Moves that never lose a guest, on the testbed (tests/testbed.py): real guests
that answer ping, moved between containers that are namespaces with their own
libvirtd, reached over TLS.

Shown here: `container evacuate` empties a container of its running guests,
which go on answering, and leaves it out of service until `container return`;
a move whose new QEMU, or the new container's libvirtd, dies midway leaves
the guest running on the old container only, and the database saying so;
and ten moves in a row round the containers under ping, the guest answering
after each (the short form of benchmarks/soak.py, which does 100 and prints
the figures).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sysdaemon import kill_hard

import testbed as tb
import testkit

pytestmark = pytest.mark.system

BOOT = 240.0  # a TCG guest boots in 10-30 s; a loaded machine (CI, 2 cores) is slower
BROKEN = ("is not a head", "general protection", "soft lockup", "Oops")


def wait_for(condition: Any, what: str, timeout: float = BOOT) -> Any:
    return testkit.wait_for(condition, what, timeout, every=0.2)


def domains(bed: tb.Testbed, container: str, *flags: str) -> list[str]:
    out = bed.container(container).run("virsh", "-q", "list", "--name", *flags).stdout
    return [n for n in out.split() if n]


def answers(bed: tb.Testbed, ip: str) -> bool:
    done = bed.on_frontend("busybox", "ping", "-c", "1", "-W", "1", ip, check=False)
    return done.returncode == 0


def add_guest(bed: tb.Testbed, name: str, container: str, ip: str) -> None:
    bed.cairn(
        "add", "host", "vm", container, f"name={name}", "mem=128", "disksize=1",
        f"ip={ip}", "subnet=private",
    )  # fmt: skip


def up(bed: tb.Testbed, guests: dict[str, str]) -> None:
    """Start the guests (name: address) at once; return when each answers ping."""
    bed.cairn("start", "host", "vm", *guests)
    for name, ip in guests.items():
        wait_for(lambda ip=ip: answers(bed, ip), f"{name} to answer ping at {ip}")


def container_of(bed: tb.Testbed, vm: str) -> str:
    done = bed.cairn("list", "host", "vm", vm, "output-format=json")
    (row,) = json.loads(done.stdout)
    return str(row["container"])


def healthy(bed: tb.Testbed, container: str, vm: str) -> None:
    """The guest's console on `container` goes on ticking and shows no broken kernel."""
    console = bed.console(container, vm)

    def ticks() -> list[str]:
        text = console.read_text(errors="replace") if console.exists() else ""
        return re.findall(r"cairn-guest: uptime ([0-9.]+)", text)

    first = wait_for(ticks, f"{vm}'s console on {container} to tick")[-1]
    wait_for(lambda: ticks()[-1] != first, f"{vm}'s console on {container} to tick on")
    text = console.read_text(errors="replace")
    assert not [b for b in BROKEN if b in text], text[-2000:]


# --- container evacuate ---------------------------------------------------------------------


def test_evacuate_moves_the_running_guests_off_and_keeps_the_container_out_of_service(
    testbed: tb.Testbed,
) -> None:
    bed, src = testbed, tb.container_name(0)
    guests = {"tb-evac-a": "198.18.1.81", "tb-evac-b": "198.18.1.82"}
    for name, ip in guests.items():
        add_guest(bed, name, src, ip)
    bed.cairn("add", "host", "vm", src, "name=tb-evac-off", "mem=128", "disksize=1")
    up(bed, guests)

    try:
        done = bed.cairn(
            "container", "evacuate", src, "copy-storage=yes", "output-format=json", check=False
        )

        assert done.returncode == 0, done.stderr + done.stdout
        rows = {r["vm"]: r for r in json.loads(done.stdout)}
        for name in guests:
            assert rows[name]["container"] != src and "migrated to" in rows[name]["result"], rows
        assert rows["tb-evac-off"]["container"] == src
        assert done.stderr.splitlines()[-1].endswith("1 VM stayed on it: tb-evac-off")
        assert domains(bed, src, "--all") == []
        for name, ip in guests.items():
            there = rows[name]["container"]
            assert container_of(bed, name) == there
            assert domains(bed, there) == [name] or name in domains(bed, there)
            wait_for(lambda ip=ip: answers(bed, ip), f"{name} to answer at {ip} after the move")
            healthy(bed, there, name)
        # Out of service: nothing starts there until it is back.
        refused = bed.cairn("start", "host", "vm", "tb-evac-off", check=False)
        assert refused.returncode == 1 and "out of service" in refused.stdout + refused.stderr
    finally:  # the session's testbed is shared: the tests after this one start VMs there
        bed.cairn("container", "return", src)
    assert bed.cairn("start", "host", "vm", "tb-evac-off").returncode == 0
    assert domains(bed, src) == ["tb-evac-off"]


# --- a move that fails midway -----------------------------------------------------------------


def qemu_of(bed: tb.Testbed, container: str, vm: str) -> int | None:
    """The QEMU of `vm` in `container` (its own PID namespace), as this machine sees it."""
    space = bed.container(container)
    mine = os.readlink(f"/proc/{space.pid}/ns/pid")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "comm").read_text().startswith("qemu-system"):
                continue
            if f"guest={vm},".encode() not in (entry / "cmdline").read_bytes():
                continue
            if os.readlink(entry / "ns" / "pid") != mine:
                continue
        except OSError:
            continue
        return int(entry.name)
    return None


@pytest.mark.parametrize("dies", ["qemu", "libvirtd", "old-libvirtd"])
def test_a_move_that_fails_midway_leaves_the_guest_running_where_it_was(
    testbed: tb.Testbed, dies: str
) -> None:
    """The new container's QEMU dies during the copy, or its libvirtd does (then
    its QEMU lives on, and holds the whole guest, paused, until libvirtd is back),
    or the old container's libvirtd does (its QEMU lives on)."""
    bed, src, dest = testbed, tb.container_name(2), tb.container_name(3)
    name, ip = f"tb-midway-{dies}", "198.18.1.83"
    add_guest(bed, name, src, ip)
    # Data in the disk (cairn keeps a disk that exists): its copy takes a while.
    disk = bed.disk(src, name)
    disk.parent.mkdir(parents=True, exist_ok=True)
    with disk.open("wb") as f:
        for _ in range(256):
            f.write(os.urandom(1024 * 1024))
        f.truncate(1024**3)
    up(bed, {name: ip})

    move = subprocess.Popen(
        bed.frontend.argv(
            "env", *(f"{k}={v}" for k, v in bed.env.items()),
            tb.CAIRN, "move", "host", "vm", name, dest, "copy-storage=yes",
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # The new QEMU, stopped as soon as it is there: the move cannot finish
        # before the failure.
        pid = wait_for(lambda: qemu_of(bed, dest, name), f"the QEMU of {name} on {dest}", 120)
        os.kill(pid, signal.SIGSTOP)
        time.sleep(1.0)
        if dies == "qemu":
            kill_hard(pid, f"the QEMU of {name} on {dest}")
        else:
            where = dest if dies == "libvirtd" else src
            daemon = bed.libvirtd_pid(where)
            assert daemon is not None
            kill_hard(daemon, f"libvirtd of {where}")
            os.kill(pid, signal.SIGCONT)
        out, err = move.communicate(timeout=300)
    finally:
        if move.poll() is None:
            move.kill()
            move.wait()

    assert move.returncode == 1, out + err
    # One error line, last (libvirt may say more on stderr when its daemon dies).
    lines = err.splitlines()
    assert lines and lines[-1].startswith("error - ") and name in lines[-1], err
    assert [x for x in lines if x.startswith("error - ")] == lines[-1:], err
    assert "Traceback" not in err, err
    if dies == "old-libvirtd":
        bed.start_libvirtd(src)
    # Running in exactly one place, and the database says which.
    assert domains(bed, src) == [name]
    assert bed.container(src).run("virsh", "domstate", name).stdout.strip() == "running"
    assert container_of(bed, name) == src
    wait_for(lambda: answers(bed, ip), f"{name} to answer at {ip} after the failed move")
    healthy(bed, src, name)
    if dies == "libvirtd":
        bed.start_libvirtd(dest)
    # No copy left on the new container, not even a paused QEMU.
    wait_for(
        lambda: domains(bed, dest, "--all") == [] and qemu_of(bed, dest, name) is None,
        f"no copy of {name} left on {dest}",
        60,
    )
    # And it moves when nothing fails.
    moved = bed.cairn("move", "host", "vm", name, dest, "copy-storage=yes")
    assert f"migrated to {dest}" in moved.stdout
    assert container_of(bed, name) == dest and domains(bed, src, "--all") == []
    wait_for(lambda: answers(bed, ip), f"{name} to answer at {ip} on {dest}")


# --- ten moves in a row (benchmarks/soak.py does 100) -------------------------------------------


def test_ten_moves_round_the_containers_and_the_guest_answers_after_each(
    testbed: tb.Testbed,
) -> None:
    bed, name, ip = testbed, "tb-soak", "198.18.1.84"
    names = [tb.container_name(i) for i in range(len(bed.containers))]
    add_guest(bed, name, names[0], ip)
    up(bed, {name: ip})

    for n in range(1, 11):
        there = names[n % len(names)]
        moved = bed.cairn("move", "host", "vm", name, there, "copy-storage=yes")
        assert f"migrated to {there}" in moved.stdout, moved.stdout
        wait_for(lambda: answers(bed, ip), f"{name} to answer after move {n} to {there}", 30)
    healthy(bed, there, name)
    assert container_of(bed, name) == there
    assert [c for c in names if domains(bed, c, "--all")] == [there]
