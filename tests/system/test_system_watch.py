"""`cairn watch` as a real process against the real libvirtd: exactly one plugin_disallocate.

The watcher runs as the service would (`cairn watch refresh=5`, its log on
stderr, in a file here) while guests are destroyed or saved with virsh, QEMU
is killed, or libvirtd itself is restarted. The plugins (from the conftest's
`lab.plugins()`) append one line per call, so "exactly once" is a line count.
The watcher handles events in the order libvirt sends them, so once its log
shows a later event (a save: "kept allocated"), every earlier one is done.

Restarting libvirtd: see tests/system/test_system_container_restart.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sysdaemon import URI, gone, wait_for
from watcher import disallocations

pytestmark = pytest.mark.system

QEMU_RUN = Path("/run/libvirt/qemu")
DEADLINE = 60.0
DESTROYED = "stopped-by-itself (destroyed)"


def virsh(*words: str) -> None:
    done = subprocess.run(
        ["virsh", "-c", URI, *words], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"virsh {' '.join(words)}: {done.stderr}"


def start_vms(lab: Any, *vms: str) -> None:
    done = lab.cli("start", "host", "vm", *vms, "output-format=json")
    assert done.code == 0, f"start host vm: {done.out}{done.err}"
    for vm in vms:
        lab.wait_for(lambda vm=vm: lab.dom(vm).isActive(), f"{vm} to run")


@pytest.fixture(autouse=True)
def _no_cpu(lab: Any) -> None:
    lab.cli.ok("set", "attr", "cpu_mode", "none")  # nested KVM: no <cpu> element


# --- tests ----------------------------------------------------------------------


def test_a_destroyed_guest_is_disallocated_once_and_a_saved_one_is_not(lab, watch):
    lab.plugins()
    gone, kept = lab.add_vm("gone"), lab.add_vm("kept")
    start_vms(lab, gone, kept)
    w = watch("refresh=5")
    w.wait_line(f"INFO watching {URI}")

    virsh("destroy", gone)
    virsh("managedsave", kept)
    w.wait_line(f"INFO {kept} stopped (saved): kept allocated")

    assert disallocations(lab) == [f"disallocate {gone} {DESTROYED}"]
    assert w.count(f"INFO {gone}: disallocated ({DESTROYED})") == 1
    assert lab.dom(kept).hasManagedSaveImage(0) == 1
    assert w.stop() == 0  # SIGTERM: a clean exit
    assert "Traceback" not in w.text()


def test_two_guests_destroyed_at_the_same_moment_are_each_disallocated_once(lab, watch):
    lab.plugins()
    left, right, last = lab.add_vm("left"), lab.add_vm("right"), lab.add_vm("last")
    start_vms(lab, left, right, last)
    w = watch("refresh=5")
    w.wait_line(f"INFO watching {URI}")

    both = [
        subprocess.Popen(
            ["virsh", "-c", URI, "destroy", vm],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for vm in (left, right)
    ]
    for proc in both:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    virsh("managedsave", last)
    w.wait_line(f"INFO {last} stopped (saved): kept allocated")

    assert sorted(disallocations(lab)) == sorted(
        f"disallocate {vm} {DESTROYED}" for vm in (left, right)
    )
    assert w.count(f"{left}: disallocated") == 1
    assert w.count(f"{right}: disallocated") == 1


def test_libvirtd_restart_reconnects_and_releases_a_guest_that_died_meanwhile(lab, daemon, watch):
    lab.plugins()
    died, survivor = lab.add_vm("died"), lab.add_vm("survivor")
    start_vms(lab, died, survivor)
    w = watch("refresh=5")
    w.wait_line(f"INFO watching {URI}")
    qemu = int((QEMU_RUN / f"{died}.pid").read_text().strip())

    daemon.stop()
    w.wait_line(f"WARNING lost {URI} (")
    w.wait_line("; retrying in 1 s")  # the first retry, right away, found no daemon
    os.kill(qemu, signal.SIGKILL)  # the guest dies while nobody can tell
    wait_for(lambda: gone(qemu), f"QEMU of {died} (pid {qemu}) to die")
    assert disallocations(lab) == []
    daemon.start()

    w.wait_line(f"INFO watching {URI}", times=2)
    wait_for(lambda: disallocations(lab), f"{died} to be disallocated")
    assert lab.dom(survivor).isActive()  # its QEMU outlived the daemon
    virsh("managedsave", survivor)
    w.wait_line(f"INFO {survivor} stopped (saved): kept allocated")

    (call,) = disallocations(lab)
    # Found off by the reconcile after reconnecting, or (if libvirtd had not yet
    # noticed the dead QEMU by then) told by the event it sends when it does.
    assert re.fullmatch(
        rf"disallocate {died} (found shutoff when watching began|stopped-by-itself \(\w+\))",
        call,
    ), call
    retries = [int(n) for n in re.findall(r"retrying in (\d+) s", w.text())]
    assert retries == [1, 2, 4, 8, 16, 32][: len(retries)], w.text()
    assert w.stop() == 0


def test_watch_seconds_stops_by_itself(lab, watch):
    lab.add_vm("idle")  # a container with a VM, so that there is something to watch
    w = watch("seconds=1")
    assert w.proc.wait(timeout=DEADLINE) == 0
    assert w.count(f"INFO watching {URI}") == 1, w.text()
