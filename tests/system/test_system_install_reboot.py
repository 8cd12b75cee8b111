"""A PXE install whose installer reboots the guest ends there, on the real libvirtd.

The guest is a VM set to install (boot order network, hd, as every VM without a
CDROM): its network boot finds nothing to boot, so the firmware boots its disk,
whose boot sector resets the machine through the keyboard controller at once,
as an installer reboots at its end. With on_reboot=destroy that reset ends the
domain; the watcher hears a guest that ended by itself, disallocates it once and
sets its boot back to os. Without it, the guest would boot again, forever.
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


def installing_vm(lab: Any, code: bytes) -> str:
    lab.cli.ok("set", "attr", "cpu_mode", "none")  # nested KVM: no <cpu> element
    lab.plugins()
    vm = lab.add_vm("install")
    lab.run("set", "host", "boot", vm, "action=install")
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


def test_a_reset_asked_of_an_installing_vm_ends_it_but_not_its_install(lab, watch):
    vm = installing_vm(lab, HANG)
    w = watch("refresh=5")
    w.wait_line("INFO watching qemu:///system")
    assert lab.verb("start", "host", "vm", vm)["result"] == "started"

    lab.verb("stop", "host", "vm", vm, "action=reset")
    w.wait_line(f"INFO {vm}: disallocated")

    assert not lab.dom(vm).isActive()  # its reboot ends the domain, whoever asks
    assert boot_action(lab, vm) == "install"
    assert "its install ended" not in w.text()
