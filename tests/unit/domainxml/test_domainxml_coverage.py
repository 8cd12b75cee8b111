"""Every spec field must reach the XML (the virt-manager habit).

A field added to a spec without a variant here fails `test_every_field_has_a_variant`;
a field whose variant leaves the document unchanged fails `test_field_changes_the_xml`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml.cpu import pin_all
from cairn.domainxml.domain import to_xml
from cairn.domainxml.spec import Cdrom, Cpu, Disk, DomainSpec, KernelBoot, Nic
from cairn.metadata import StartOrder

Build = Callable[[DomainSpec], etree._Element]
UUID = "6f1c2b9e-3d4a-4c8b-9e7f-0a1b2c3d4e5f"


def model(name: str) -> etree._Element:
    element = etree.Element("model")
    element.text = name
    return element


DISK = Disk("/vm/a.img", "vda", "virtio", "raw", "file")
NIC = Nic("52:54:00:00:00:01", "bridge", "br0")
CPU = Cpu("custom", None, (model("core2duo"),))
CDROM = Cdrom("/isos/a.iso")
KERNEL = KernelBoot("/tftpboot/vmlinuz", "/tftpboot/initrd.img", "ks ksdevice=eth1")
BASE = DomainSpec(
    name="vm-0-0-0", uuid=UUID, memory_mib=1024, vcpus=1, disks=(DISK,), nics=(NIC,), cpu=CPU
)
BASE_WITH_CDROM = dataclasses.replace(BASE, cdrom=CDROM)

# For each spec class: field -> changes that alter that field (and what it needs).
VARIANTS: dict[type, dict[str, dict[str, Any]]] = {
    DomainSpec: {
        "name": {"name": "vm-0-0-1"},
        "uuid": {"uuid": UUID.replace("6f", "70")},
        "memory_mib": {"memory_mib": 2048},
        "vcpus": {"vcpus": 2},
        "domain_type": {"domain_type": "qemu"},
        "arch": {"arch": "i686"},
        "machine": {"machine": "pc-i440fx-7.2"},
        "features": {"features": (etree.Element("acpi"),)},
        "disks": {"disks": ()},
        "cdrom": {"cdrom": CDROM},
        "nics": {"nics": ()},
        "boot": {"boot": ("network", "hd")},
        "cpu": {"cpu": None},
        "domain_extra": {"domain_extra": (pin_all(1),)},
        "devices_extra": {"devices_extra": (etree.Element("watchdog", model="i6300esb"),)},
        "graphics_vnc": {"graphics_vnc": False},
        "serial_console": {"serial_console": False},
        "bios_useserial": {"bios_useserial": True},
        "start": {"start": StartOrder(3, 10)},
        "kernel": {"kernel": KERNEL},
        "on_reboot": {"on_reboot": "destroy"},
    },
    KernelBoot: {
        "kernel": {"kernel": "/tftpboot/vmlinuz-2"},
        "initrd": {"initrd": None},
        "cmdline": {"cmdline": "ks ip=192.0.2.9"},
    },
    Disk: {
        "path": {"path": "/vm/b.img"},
        "device": {"device": "vdb"},
        "bus": {"bus": "scsi", "device": "sda"},
        "fmt": {"fmt": "qcow2"},
        "kind": {"kind": "block", "path": "/dev/sdb"},
    },
    Nic: {
        "mac": {"mac": "52:54:00:00:00:02"},
        "source_kind": {"source_kind": "network", "source": "default"},
        "source": {"source": "br1"},
        "model": {"model": "e1000"},
    },
    Cpu: {
        "mode": {"mode": "host-model", "children": ()},
        "match": {"match": "minimum"},
        "children": {"children": (model("Haswell"),)},
    },
    Cdrom: {"path": {"path": "/dev/sr0"}},
}


def vary(cls: type, changes: dict[str, Any]) -> DomainSpec:
    """BASE with one object of class `cls` changed."""
    if cls is DomainSpec:
        return dataclasses.replace(BASE, **changes)
    if cls is Cdrom:
        return dataclasses.replace(BASE_WITH_CDROM, cdrom=dataclasses.replace(CDROM, **changes))
    if cls is Disk:
        return dataclasses.replace(BASE, disks=(dataclasses.replace(DISK, **changes),))
    if cls is KernelBoot:
        return dataclasses.replace(BASE, kernel=dataclasses.replace(KERNEL, **changes))
    if cls is Nic:
        return dataclasses.replace(BASE, nics=(dataclasses.replace(NIC, **changes),))
    return dataclasses.replace(BASE, cpu=dataclasses.replace(CPU, **changes))


@pytest.mark.parametrize("cls", list(VARIANTS), ids=lambda cls: cls.__name__)
def test_every_field_has_a_variant(cls: type) -> None:
    assert set(VARIANTS[cls]) == {field.name for field in dataclasses.fields(cls)}
    for name, changes in VARIANTS[cls].items():
        assert name in changes


@pytest.mark.parametrize(
    ("cls", "field"),
    [(cls, field) for cls, fields in VARIANTS.items() for field in fields],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_field_changes_the_xml(build: Build, cls: type, field: str) -> None:
    base = BASE_WITH_CDROM if cls is Cdrom else BASE
    assert to_xml(build(vary(cls, VARIANTS[cls][field]))) != to_xml(build(base))
