"""A real KVM guest started by `cairn start host vm`: boot order seen from the
firmware's own serial output, vcpu pinning and the domain type read back from
libvirtd.

SeaBIOS, with <bios useserial='yes'/> and a file serial port as the first
port, writes "Booting from DVD/CD..." when it tries the CDROM and "Booting
from ROM..." when it hands over to iPXE (the network). The ISO is not
bootable, so with a CDROM both lines appear, CDROM first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

pytestmark = pytest.mark.system

BOOT_LINE = re.compile(r"Booting from ([^.\r\n]+)")


def boot_lines(log: Path) -> list[str]:
    """What the firmware said it booted from, in order ("DVD/CD", "ROM", ...)."""
    if not log.exists():
        return []
    return BOOT_LINE.findall(log.read_text(errors="replace"))


def wait_for_network_boot(lab: Any, log: Path) -> list[str]:
    """Wait until the firmware reached the network (iPXE); its boot lines then."""
    return lab.wait_for(
        lambda: (lines := boot_lines(log)) and "ROM" in lines and lines,
        f"'Booting from ROM' in {log}",
    )


def test_cdrom_is_tried_before_the_network_and_without_it_the_network_is_first(lab: Any) -> None:
    vm = lab.add_vm("boot", cpus=2)
    iso = lab.iso()
    lab.run("set", "host", "vm", "cdrom", vm, f"cdrom={iso}")
    lab.attr(vm, "kvm_cpu_pinning", "pin_all")
    with_cd = lab.serial_log(vm, "with-cdrom")

    assert lab.verb("start", "host", "vm", vm)["result"] == "started"

    lines = wait_for_network_boot(lab, with_cd)
    assert "DVD/CD" in lines, f"the firmware never tried the CDROM: {lines}"
    assert lines.index("DVD/CD") < lines.index("ROM"), lines

    # Without a CDROM (and after a restart, as the seed says): network first.
    lab.verb("stop", "host", "vm", vm)
    lab.run("set", "host", "vm", "cdrom", vm, "cdrom=none")
    without_cd = lab.serial_log(vm, "without-cdrom")
    assert lab.verb("start", "host", "vm", vm)["result"] == "started"

    lines = wait_for_network_boot(lab, without_cd)
    assert lines[0] == "ROM", lines
    assert "DVD/CD" not in lines


def test_pin_all_pins_vcpu_i_to_host_cpu_i(lab: Any) -> None:
    host_cpus = lab.virt.getInfo()[2]
    if host_cpus < 2:
        pytest.skip(f"pin_all of 2 vcpus needs 2 host CPUs; this host has {host_cpus}")
    vm = lab.add_vm("pin", cpus=2)
    lab.attr(vm, "kvm_cpu_pinning", "pin_all")

    lab.verb("start", "host", "vm", vm)

    cpumaps = lab.dom(vm).vcpuPinInfo(0)  # live: the guest runs
    assert len(cpumaps) == 2
    for vcpu, cpumap in enumerate(cpumaps):
        assert tuple(cpumap) == tuple(cpu == vcpu for cpu in range(host_cpus)), (vcpu, cpumap)


def test_domain_type_is_kvm_where_the_container_offers_kvm(lab: Any) -> None:
    if not Path("/dev/kvm").exists():
        pytest.skip("no /dev/kvm here: libvirt offers only TCG (type qemu)")
    vm = lab.add_vm("kvm")

    lab.verb("start", "host", "vm", vm)

    dom = lab.dom(vm)
    assert dom.isActive()
    assert etree.fromstring(dom.XMLDesc(0).encode()).get("type") == "kvm"
