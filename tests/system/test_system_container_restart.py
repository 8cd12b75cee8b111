"""Host Autorestart (seed): VMs with kvm_autostart=true come back when their container restarts.

A clean shutdown saves them and the restart restores them; a power cut (QEMU
and libvirtd killed) brings them back through a normal boot. VMs without
kvm_autostart stay off. The container here is this machine: its real libvirtd
is stopped and started again, so these tests own the whole daemon for a while
(`cairn container shutdown yes=true` acts on every VM cairn defined on the host).

A real reboot empties /run; libvirt 9 keeps in /run/libvirt/qemu/autostarted
the fact that it has autostarted domains since boot, and skips autostart when a
restarted daemon finds that file. Removing it is what makes a daemon restart
look like a container boot. Each test leaves libvirtd running, whatever happens.

The conftest's connection (`_virt`) outlives a daemon restart only by being
reopened once a call on it has failed; `Daemon.start` makes that call, so that
`lab` and the tests after these find a working connection.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from sysdaemon import MARKER, kill_hard, qemu_pid

pytestmark = pytest.mark.system

SHUTDOWN_TIMEOUT = "timeout=5"  # a VM without an OS ignores ACPI: this is its whole wait


@pytest.fixture(autouse=True)
def _no_cpu(lab: Any) -> None:
    lab.cli.ok("set", "attr", "cpu_mode", "none")  # nested KVM: no <cpu> element


def container(lab: Any, verb: str, *params: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """`cairn container VERB`: (exit status, {vm: (action, result)}) for this test's VMs."""
    act = ("yes=true",) if verb == "shutdown" else ()
    done = lab.cli("container", verb, *act, *params, "output-format=json")
    rows = json.loads(done.out) if done.out.strip() else []
    assert done.out.strip() or done.code == 0, f"container {verb}: {done.err}"
    mine = {r["vm"]: (r["action"], r["result"]) for r in rows if r["vm"] in lab.names}
    others = [r for r in rows if r["vm"] not in lab.names]
    assert not any("failed" in r["result"] for r in others), f"another domain failed: {others}"
    return done.code, mine


def start_vms(lab: Any, *vms: str) -> None:
    done = lab.cli("start", "host", "vm", *vms, "output-format=json")
    assert done.code == 0, f"start host vm: {done.out}{done.err}"
    for vm in vms:
        lab.wait_for(lambda vm=vm: lab.dom(vm).isActive(), f"{vm} to run")


def two_vms(lab: Any) -> tuple[str, str]:
    """A VM with kvm_autostart=true and one without, both started through cairn."""
    auto, plain = lab.add_vm("auto"), lab.add_vm("plain")
    lab.attr(auto, "kvm_autostart", "true")
    start_vms(lab, auto, plain)
    assert (lab.dom(auto).autostart(), lab.dom(plain).autostart()) == (1, 0)
    return auto, plain


def state(lab: Any, vm: str) -> tuple[int, int]:
    code, reason = lab.dom(vm).state(0)
    return int(code), int(reason)


def test_clean_restart_restores_the_autostart_vm_and_leaves_the_other_off(lab, daemon):
    import libvirt

    auto, plain = two_vms(lab)

    code, rows = container(lab, "shutdown", SHUTDOWN_TIMEOUT)

    assert code == 0
    assert rows[auto] == ("save", "saved")
    assert rows[plain][0] == "shutdown"
    assert rows[plain][1].startswith(("shut down", "powered off")), rows[plain]
    assert state(lab, auto) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED)
    assert lab.dom(auto).hasManagedSaveImage(0) == 1
    assert state(lab, plain)[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert lab.dom(plain).hasManagedSaveImage(0) == 0

    daemon.stop()
    daemon.forget_autostart()
    daemon.start()
    assert MARKER.exists(), "libvirtd did not write its autostart marker again"

    code, rows = container(lab, "boot")

    assert code == 0
    # libvirtd's own autostart may have restored it already; either way it is restored.
    assert rows[auto] in {("boot", "restored"), ("boot", "already running")}, rows
    assert plain not in rows
    assert state(lab, auto) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED)
    assert lab.dom(auto).hasManagedSaveImage(0) == 0
    assert state(lab, plain)[0] == libvirt.VIR_DOMAIN_SHUTOFF


def test_boot_restores_what_a_restarted_libvirtd_did_not_autostart(lab, daemon):
    """A daemon restart that is not a boot: libvirtd skips autostart, cairn restores."""
    import libvirt

    auto = lab.add_vm("auto")
    lab.attr(auto, "kvm_autostart", "true")
    start_vms(lab, auto)
    code, rows = container(lab, "shutdown", SHUTDOWN_TIMEOUT)
    assert (code, rows) == (0, {auto: ("save", "saved")})

    daemon.stop()
    daemon.start()  # the marker stays: libvirtd knows it has autostarted this boot
    # Still off and saved (a new daemon no longer knows why it is off: reason "unknown").
    assert state(lab, auto)[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert lab.dom(auto).hasManagedSaveImage(0) == 1

    code, rows = container(lab, "boot")

    assert (code, rows) == (0, {auto: ("boot", "restored")})
    assert state(lab, auto) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED)
    assert lab.dom(auto).hasManagedSaveImage(0) == 0


def test_crash_boots_the_autostart_vm_afresh_and_leaves_the_other_off(lab, daemon):
    """Unlike a real power cut, the dead guests' status files stay in /run/libvirt/qemu:
    the new libvirtd first tries to reconnect to their QEMU (in threads) and may
    skip autostarting a guest it still counts as active; then `container boot`
    is what boots it. Either way it must end up freshly booted."""
    import libvirt

    auto, plain = two_vms(lab)
    pids = {vm: qemu_pid(vm) for vm in (auto, plain)}

    daemon.stop(signal.SIGKILL)  # the power goes: nothing gets to save anything
    for vm, pid in pids.items():
        kill_hard(pid, f"QEMU of {vm}")
    daemon.forget_autostart()
    daemon.start()

    code, rows = container(lab, "boot")

    assert code == 0
    assert rows[auto] in {("boot", "booted"), ("boot", "already running")}, rows
    assert plain not in rows
    assert state(lab, auto) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
    assert lab.dom(auto).hasManagedSaveImage(0) == 0
    assert qemu_pid(auto) != pids[auto]  # a new QEMU
    assert state(lab, plain)[0] == libvirt.VIR_DOMAIN_SHUTOFF


SAVE_DIR = "/var/lib/libvirt/qemu/save"  # where the QEMU driver writes managed saves


@pytest.fixture
def full_save_disk() -> Iterator[None]:
    """A 16 KiB file system over libvirt's save directory: every save runs out of space."""
    import pwd

    owner = pwd.getpwnam("libvirt-qemu")
    options = f"size=16k,mode=0755,uid={owner.pw_uid},gid={owner.pw_gid}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "cairn-full", SAVE_DIR], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", SAVE_DIR], check=True)


def test_a_save_that_runs_out_of_disk_shuts_the_vm_down_and_boot_brings_it_back(
    lab, full_save_disk
):
    """Bad input and faults: a full disk loses no VM; the failure shows in the status."""
    import libvirt

    auto = lab.add_vm("full")
    lab.attr(auto, "kvm_autostart", "true")
    start_vms(lab, auto)

    code, rows = container(lab, "shutdown", SHUTDOWN_TIMEOUT)

    assert code == 1  # it will not be restored, only booted: that must show
    action, result = rows[auto]
    assert action == "shutdown"
    assert result.startswith("could not save ("), result
    assert "No space left on device" in result  # libvirt's own reason is passed on
    assert "); shut down" in result or "); powered off" in result, result
    assert state(lab, auto)[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert lab.dom(auto).hasManagedSaveImage(0) == 0
    assert lab.dom(auto).isPersistent() == 1 and lab.dom(auto).autostart() == 1

    code, rows = container(lab, "boot")

    assert (code, rows) == (0, {auto: ("boot", "booted")})
    assert state(lab, auto) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
