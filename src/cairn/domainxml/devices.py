"""The <devices> element: disks, the cdrom, network interfaces, VNC graphics, the serial
console, then the spec's extra devices in order.

No <emulator>: libvirt picks the binary for the domain type and arch.  Which bus a disk
uses or which bridge a nic joins is the designer's choice; the one choice made here is
the cdrom's bus and name, because it follows from the machine type and the disks.
"""

from __future__ import annotations

from string import ascii_lowercase

from lxml import etree

from cairn.domainxml._tree import adopt, sub
from cairn.domainxml.spec import Cdrom, Disk, DomainSpec, Nic, SpecError

# The classic place of a cdrom comes first: the secondary IDE master, the third SATA port.
_CDROM_NAMES = {
    "ide": ("hdc", "hdd", "hdb", "hda"),
    "sata": tuple(f"sd{letter}" for letter in ascii_lowercase[2:] + "ab"),
}


def build_devices(spec: DomainSpec) -> etree._Element:
    """<devices> for the whole spec."""
    devices = etree.Element("devices")
    for disk in spec.disks:
        devices.append(build_disk(disk))
    if spec.cdrom is not None:
        devices.append(build_cdrom(spec.cdrom, spec))
    for nic in spec.nics:
        devices.append(build_interface(nic))
    if spec.serial_console:
        serial = sub(devices, "serial", type="pty")
        sub(serial, "target", port="0")
        console = sub(devices, "console", type="pty")
        sub(console, "target", type="serial", port="0")
    if spec.graphics_vnc:
        graphics = sub(devices, "graphics", type="vnc", port="-1", autoport="yes")
        graphics.set("listen", "127.0.0.1")
        sub(graphics, "listen", type="address", address="127.0.0.1")
    adopt(devices, spec.devices_extra)
    return devices


def build_disk(disk: Disk) -> etree._Element:
    """<disk type=file|block device='disk'> with driver, source and target."""
    element = etree.Element("disk", type=disk.kind, device="disk")
    sub(element, "driver", name="qemu", type=disk.fmt)
    sub(element, "source", **{"file" if disk.kind == "file" else "dev": disk.path})
    sub(element, "target", dev=disk.device, bus=disk.bus)
    return element


def build_cdrom(cdrom: Cdrom, spec: DomainSpec) -> etree._Element:
    """A read-only cdrom on SATA (q35) or IDE (pc), named clear of the spec's disks."""
    bus = cdrom_bus(spec)
    kind = "block" if cdrom.is_block else "file"
    element = etree.Element("disk", type=kind, device="cdrom")
    sub(element, "driver", name="qemu", type="raw")
    sub(element, "source", **{"dev" if cdrom.is_block else "file": cdrom.path})
    sub(element, "target", dev=cdrom_device(spec), bus=bus)
    sub(element, "readonly")
    return element


def cdrom_bus(spec: DomainSpec) -> str:
    """sata on q35 machine types, which have no IDE; ide on pc-i440fx."""
    return "sata" if spec.is_q35 else "ide"


def cdrom_device(spec: DomainSpec) -> str:
    """The first cdrom device name for the bus that no disk of the spec uses."""
    taken = {disk.device for disk in spec.disks}
    for name in _CDROM_NAMES[cdrom_bus(spec)]:
        if name not in taken:
            return name
    raise SpecError(f"no free {cdrom_bus(spec)} device name for the cdrom of {spec.name}")


def build_interface(nic: Nic) -> etree._Element:
    """<interface type=bridge|network|user> with mac, source (not for user) and model."""
    element = etree.Element("interface", type=nic.source_kind)
    sub(element, "mac", address=nic.mac.lower())
    if nic.source is not None:
        sub(element, "source", **{nic.source_kind: nic.source})
    sub(element, "model", type=nic.model)
    return element
