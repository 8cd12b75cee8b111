"""A PXE install whose installer reboots the guest ends there, on the real libvirtd.

The guest is a VM set to install (boot order network, hd, as every VM without a
CDROM): its network boot finds nothing to boot, so the firmware boots its disk,
whose boot sector resets the machine through the keyboard controller at once,
as an installer reboots at its end. With on_reboot=destroy that reset ends the
domain; the watcher hears a guest that ended by itself, disallocates it once and
sets its boot back to os. Without it, the guest would boot again, forever.
A reset or reboot asked through cairn restarts such a VM instead: it installs again.
A VM started to boot its OS and set to install while it runs gets an install's
on_reboot when the watcher hears it reboot, so its install ends the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from watcher import disallocations

pytestmark = pytest.mark.system

# At 0x7c00: mov al, 0xfe; out 0x64, al (the keyboard controller's reset line);
# jmp $ -- then the boot signature. HANG: only jmp $ (an installer at work).
RESET = bytes([0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE])
HANG = bytes([0xEB, 0xFE])
GIB = 1 << 30
# A network boot that finds nothing (iPXE's DHCP tries), then the disk: about 25 s
# here, far longer while the machine is loaded.
BOOT = 300.0
FIRMWARE = "SeaBIOS (version"  # its first words on the serial port at every boot


def boot_disk(path: Path, code: bytes) -> None:
    """A 1 GiB raw image (the VM's defined size, so cairn keeps it) that runs `code` at boot."""
    with path.open("wb") as disk:
        disk.write(code.ljust(510, b"\0") + b"\x55\xaa")
        disk.truncate(GIB)
    path.chmod(0o644)


def installing_vm(lab: Any, code: bytes, boot: str = "install") -> str:
    lab.cli.ok("set", "attr", "cpu_mode", "none")  # nested KVM: no <cpu> element
    lab.plugins()
    vm = lab.add_vm("install")
    lab.run("set", "host", "boot", vm, f"action={boot}")
    boot_disk(lab.dir / f"{vm}.vda", code)
    return vm


def boot_action(lab: Any, vm: str) -> str:
    (row,) = json.loads(lab.run("list", "host", "boot", vm, "output-format=json"))
    return str(row["action"])


def test_an_installer_that_reboots_ends_the_domain_and_the_vm_boots_its_os_next(lab, watch):
    vm = installing_vm(lab, RESET)
    log = lab.serial_log(vm)
    w = watch("refresh=5")
    w.wait_line("INFO watching qemu:///system")

    assert lab.verb("start", "host", "vm", vm)["result"] == "started"
    lab.wait_for(lambda: not lab.dom(vm).isActive(), f"{vm} to end", timeout=BOOT)
    w.wait_line(f"INFO {vm}: its install ended")

    # The firmware ran once: a guest that rebooted would have started it again.
    assert log.read_text(errors="replace").count(FIRMWARE) == 1
    assert boot_action(lab, vm) == "os"
    assert [line.split()[:2] for line in disallocations(lab)] == [["disallocate", vm]]
    assert "(shutdown)" in disallocations(lab)[0]


def test_a_running_vm_set_to_install_installs_at_its_next_reboot_and_that_install_ends(lab, watch):
    """Started to boot its OS, its disk resetting the machine over and over (a
    guest that reboots, then an installer that reboots at its end), then set to
    install: the first reboot the watcher hears gives the running domain an
    install's on_reboot, so the next one ends it, and its boot is os again."""
    vm = installing_vm(lab, RESET, boot="os")
    log = lab.serial_log(vm)
    w = watch("refresh=5")
    w.wait_line("INFO watching qemu:///system")
    assert lab.verb("start", "host", "vm", vm)["result"] == "started"
    assert "<on_reboot>destroy</on_reboot>" not in lab.dom(vm).XMLDesc()
    lab.run("set", "host", "boot", vm, "action=install")

    heard = f"INFO {vm} rebooted while set to install: its install's reboot ends it"
    lab.wait_for(lambda: w.count(heard) == 1, lambda: f"{heard!r} in {w.text()}", timeout=BOOT)
    lab.wait_for(lambda: not lab.dom(vm).isActive(), f"{vm} to end", timeout=BOOT)
    w.wait_line(f"INFO {vm}: its install ended")

    # It rebooted in place first (the reboot heard), then its next reboot ended it.
    said = w.text()
    assert said.index(heard) < said.index(f"INFO {vm}: its install ended")
    assert FIRMWARE in log.read_text(errors="replace")
    assert boot_action(lab, vm) == "os"
    assert [line.split()[:2] for line in disallocations(lab)] == [["disallocate", vm]]
    assert "(shutdown)" in disallocations(lab)[0]


@pytest.mark.parametrize("action", ["reset", "reboot"])
def test_a_reset_or_reboot_of_an_installing_vm_restarts_it_and_it_installs_again(
    lab, watch, action
):
    """libvirt's reset and reboot would end such a domain (its on_reboot is
    destroy): `stop host vm` powers it off and starts it again instead, so its
    install starts over, allocated and set to install, and the watcher takes
    the stop it hears for old news."""
    vm = installing_vm(lab, HANG)
    w = watch("refresh=5")
    w.wait_line("INFO watching qemu:///system")
    assert lab.verb("start", "host", "vm", vm)["result"] == "started"
    before = lab.dom(vm).ID()

    row = lab.verb("stop", "host", "vm", vm, f"action={action}")
    w.wait_line(f"INFO {vm} runs again on qemu:///system: its stop (destroyed) is old news")

    assert lab.dom(vm).isActive()
    assert lab.dom(vm).ID() != before  # a new QEMU: the firmware, then the install, again
    assert (row["result"], row["detail"]) == (
        "restarted",
        "it is set to install, so it installs again",
    )
    assert boot_action(lab, vm) == "install"
    assert disallocations(lab) == []
    lab.verb("stop", "host", "vm", vm)  # released once, by this poweroff
    assert [line.split()[:2] for line in disallocations(lab)] == [["disallocate", vm]]


def test_an_installing_vm_that_does_not_start_again_is_off_and_released_once(lab, watch):
    """Its disk gone while it ran (QEMU holds the file open): the cold restart
    powers it off and cannot start it again; the command says so and releases it."""
    vm = installing_vm(lab, HANG)
    w = watch("refresh=5")
    w.wait_line("INFO watching qemu:///system")
    assert lab.verb("start", "host", "vm", vm)["result"] == "started"
    (lab.dir / f"{vm}.vda").unlink()

    row = lab.verb("stop", "host", "vm", vm, "action=reboot", code=1)
    w.wait_line(f"INFO {vm}: released already")

    assert row["result"] == "failed"
    assert "it is off now; released" in row["detail"], row["detail"]
    assert not lab.dom(vm).isActive()
    assert not lab.dom(vm).autostart()
    assert [line.split() for line in disallocations(lab)] == [["disallocate", vm, "stopped"]]
