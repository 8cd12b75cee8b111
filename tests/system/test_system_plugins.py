"""plugin_allocate / plugin_preboot / plugin_disallocate around real starts and stops.

The plugins append one line per call to a log file, so "exactly once" is a
line count. A start that fails after allocate must disallocate once, and the
failure row names the step that failed; a later stop must not disallocate again.
"""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

pytestmark = pytest.mark.system

RAISING_PREBOOT = "def run(*, session, vm, xml):\n    raise RuntimeError('no room on the SAN')\n"


def disallocations(lab: Any, vm: str) -> list[str]:
    return [line for line in lab.plugin_calls() if line.startswith(f"disallocate {vm} ")]


def allocations(lab: Any, vm: str) -> list[str]:
    return [line for line in lab.plugin_calls() if line == f"allocate {vm}"]


def undefined(lab: Any, vm: str) -> bool:
    try:
        lab.dom(vm)
    except libvirt.libvirtError as exc:
        return exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    return False


def test_stop_disallocates_exactly_once(lab: Any) -> None:
    lab.plugins()
    vm = lab.add_vm("once")

    lab.verb("start", "host", "vm", vm)
    assert allocations(lab, vm) == [f"allocate {vm}"]
    assert disallocations(lab, vm) == []

    row = lab.verb("stop", "host", "vm", vm)
    assert (row["result"], row["detail"]) == ("stopped", "released")
    assert not lab.dom(vm).isActive()
    assert disallocations(lab, vm) == [f"disallocate {vm} stopped"]

    row = lab.verb("stop", "host", "vm", vm)  # already off, already released
    assert row["detail"] == "nothing allocated"
    assert disallocations(lab, vm) == [f"disallocate {vm} stopped"]


def test_save_keeps_the_allocation(lab: Any) -> None:
    lab.plugins()
    vm = lab.add_vm("keep")
    lab.verb("start", "host", "vm", vm)

    lab.verb("save", "host", "vm", vm)
    lab.verb("restore", "host", "vm", vm)
    assert disallocations(lab, vm) == []

    lab.verb("stop", "host", "vm", vm)
    assert disallocations(lab, vm) == [f"disallocate {vm} stopped"]


def test_preboot_that_raises_fails_the_start_and_disallocates_once(lab: Any) -> None:
    lab.plugins(preboot=RAISING_PREBOOT)
    vm = lab.add_vm("preboot")

    row = lab.verb("start", "host", "vm", vm, code=1)

    assert row["result"] == "failed"
    assert row["detail"].startswith("preboot:"), row
    assert "no room on the SAN" in row["detail"]
    assert "disallocate ran" in row["detail"]
    assert undefined(lab, vm)  # nothing reached the container
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]

    lab.verb("stop", "host", "vm", vm)
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]


def _unwritable_disk_dir(lab: Any) -> str:
    # Nothing, not even root, can create directories under /proc.
    directory = f"/proc/cairn-systest-{lab.tag}/disks"
    lab.pool_dirs.append(directory)
    return directory


def test_disk_that_cannot_be_created_fails_at_disks_and_disallocates_once(lab: Any) -> None:
    lab.plugins()
    vm = lab.name("nodisk")
    lab.run("set", "host", "attr", "localhost", "kvm_disk_dir", _unwritable_disk_dir(lab))
    lab.run("add", "host", "vm", "localhost", f"name={vm}", "mem=128", "disksize=1")

    row = lab.verb("start", "host", "vm", vm, code=1)

    assert row["result"] == "failed"
    assert row["detail"].startswith("disks:"), row
    assert "disallocate ran" in row["detail"]
    assert allocations(lab, vm) == [f"allocate {vm}"]
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]
    assert undefined(lab, vm)

    lab.verb("stop", "host", "vm", vm)
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]


def test_failed_disks_step_leaves_no_storage_pool_behind(lab: Any) -> None:
    directory = _unwritable_disk_dir(lab)
    vm = lab.name("nopool")
    lab.run("set", "host", "attr", "localhost", "kvm_disk_dir", directory)
    lab.run("add", "host", "vm", "localhost", f"name={vm}", "mem=128", "disksize=1")

    lab.verb("start", "host", "vm", vm, code=1)

    assert [p.name() for p in lab.pools_under([directory])] == []


def test_launch_failure_disallocates_once(lab: Any) -> None:
    lab.plugins()
    vm = lab.add_vm("nolaunch")
    # A CDROM that is not on the container: libvirt defines the guest, QEMU cannot start.
    lab.run("set", "host", "vm", "cdrom", vm, f"cdrom={lab.dir}/missing.iso")

    row = lab.verb("start", "host", "vm", vm, code=1)

    assert row["result"] == "failed"
    assert row["detail"].startswith("launch:"), row
    assert not lab.dom(vm).isActive()
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]

    lab.verb("stop", "host", "vm", vm)
    assert disallocations(lab, vm) == [f"disallocate {vm} start-failed"]


def test_stop_of_a_saved_vm_makes_the_next_start_allocate_again(lab: Any) -> None:
    lab.plugins()
    vm = lab.add_vm("savedstop")
    lab.verb("start", "host", "vm", vm)
    lab.verb("save", "host", "vm", vm)

    # Stopping a saved VM releases it, so its memory image must go too: resuming
    # it later would skip plugin_allocate and run a VM that holds nothing.
    row = lab.verb("stop", "host", "vm", vm)
    assert (row["result"], row["detail"]) == ("saved image discarded", "released")
    assert lab.dom(vm).hasManagedSaveImage(0) == 0
    assert lab.status(vm) == "shutoff"
    assert disallocations(lab, vm) == [f"disallocate {vm} stopped"]

    assert lab.verb("start", "host", "vm", vm)["result"] == "started"  # a cold boot
    assert allocations(lab, vm) == [f"allocate {vm}"] * 2
    lab.verb("stop", "host", "vm", vm)
    assert len(disallocations(lab, vm)) == 2
