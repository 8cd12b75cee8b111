"""Frozen descriptions of a domain: what the builders turn into libvirt XML.

The specs hold no policy: which disk bus, which boot order, which CPU mode are the
designer's choices.  They only refuse values no builder could render (an unknown bus,
a MAC that is not one, an extra element that would replace one the builder owns), so a
spec that exists can always be built.  Nothing here touches lxml beyond holding
elements that came out of `fragments` or the builders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from cairn.errors import CairnError
from cairn.metadata import StartOrder

__all__ = [
    "BOOT_DEVICES",
    "CPU_MATCHES",
    "CPU_MODES",
    "Cdrom",
    "Cpu",
    "Disk",
    "DomainSpec",
    "KernelBoot",
    "Nic",
    "SpecError",
]

DISK_KINDS = frozenset({"file", "block"})
DISK_FORMATS = frozenset({"raw", "qcow2"})
DISK_BUSES = frozenset({"virtio", "ide", "scsi", "sata"})
NIC_SOURCES = frozenset({"bridge", "network", "user"})
CPU_MODES = frozenset({"host-model", "host-passthrough", "custom", "maximum"})
CPU_MATCHES = frozenset({"exact", "minimum", "strict"})
BOOT_DEVICES = frozenset({"cdrom", "network", "hd"})
ON_REBOOT = frozenset({"destroy", "restart"})
# Children of <domain> the builder writes itself; an extra element must not add a second.
BUILDER_OWNED = frozenset(
    {"name", "uuid", "metadata", "memory", "vcpu", "os", "features", "cpu", "on_reboot"}
    | {"devices"}
)

_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-?([0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}")


class SpecError(CairnError):
    """A spec value that no builder can render."""


def _one_of(value: object, allowed: frozenset[str], what: str) -> None:
    if value not in allowed:
        raise SpecError(f"{what} {value!r} is not one of: {', '.join(sorted(allowed))}")


def _elements(elements: tuple[etree._Element, ...], what: str) -> None:
    for element in elements:
        if not isinstance(element, etree._Element) or not isinstance(element.tag, str):
            raise SpecError(f"{what} must be XML elements, got {element!r}")


@dataclass(frozen=True)
class Disk:
    """A disk image (kind "file", fmt raw or qcow2) or a block device (kind "block")."""

    path: str
    device: str
    bus: str
    fmt: str
    kind: str

    def __post_init__(self) -> None:
        _one_of(self.kind, DISK_KINDS, "disk kind")
        _one_of(self.fmt, DISK_FORMATS, "disk format")
        _one_of(self.bus, DISK_BUSES, "disk bus")
        if not self.path.startswith("/"):
            raise SpecError(f"disk path {self.path!r} must be absolute")
        if self.kind == "block" and self.fmt != "raw":
            raise SpecError(f"block device {self.path} must use format raw, not {self.fmt}")
        if not re.fullmatch(r"(vd|hd|sd|xvd)[a-z]+", self.device):
            raise SpecError(f"disk device {self.device!r} is not a name like vda, hda or sda")


@dataclass(frozen=True)
class Cdrom:
    """An ISO image, or a /dev block device (a real drive) when the path is under /dev/."""

    path: str

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise SpecError(f"cdrom path {self.path!r} must be absolute")

    @property
    def is_block(self) -> bool:
        return self.path.startswith("/dev/")


@dataclass(frozen=True)
class Nic:
    """A network interface on a host bridge, a libvirt network, or user-mode networking."""

    mac: str
    source_kind: str
    source: str | None
    model: str = "virtio"

    def __post_init__(self) -> None:
        _one_of(self.source_kind, NIC_SOURCES, "nic source kind")
        if not _MAC.fullmatch(self.mac):
            raise SpecError(f"MAC address {self.mac!r} is not like 52:54:00:12:34:56")
        if (self.source_kind == "user") != (self.source is None):
            raise SpecError(f"a {self.source_kind} nic needs a source name exactly when not user")
        if not re.fullmatch(r"[\w.+-]+", self.model):
            raise SpecError(f"nic model {self.model!r} is not a model name like virtio or e1000")


@dataclass(frozen=True)
class Cpu:
    """The <cpu> element: a mode, a match (custom only) and children such as <model>."""

    mode: str
    match: str | None = None
    children: tuple[etree._Element, ...] = ()

    def __post_init__(self) -> None:
        _one_of(self.mode, CPU_MODES, "cpu mode")
        if self.match is not None:
            _one_of(self.match, CPU_MATCHES, "cpu match")
            if self.mode != "custom":
                raise SpecError(f"cpu match {self.match!r} needs mode custom, not {self.mode}")
        _elements(self.children, "cpu children")


@dataclass(frozen=True)
class KernelBoot:
    """<kernel>, <initrd>, <cmdline> in <os>: a guest that boots a kernel from
    the container's disk (Rocks' virtual frontend while it installs)."""

    kernel: str
    initrd: str | None
    cmdline: str

    def __post_init__(self) -> None:
        for path in (self.kernel, self.initrd):
            if path is not None and not (path.startswith("/") and path.isprintable()):
                raise SpecError(f"kernel or initrd {path!r} is not an absolute path")
        if not self.cmdline.isprintable():
            raise SpecError("the kernel command line must be one line of printable text")


@dataclass(frozen=True)
class DomainSpec:
    """Everything the builders need for one domain; see the field comments."""

    name: str
    uuid: str
    memory_mib: int
    vcpus: int
    domain_type: str = "kvm"
    arch: str = "x86_64"
    machine: str = "pc"
    features: tuple[etree._Element, ...] | None = None  # None: acpi, apic, pae
    disks: tuple[Disk, ...] = ()
    cdrom: Cdrom | None = None
    nics: tuple[Nic, ...] = ()
    boot: tuple[str, ...] = ()  # "cdrom" / "network" / "hd", in order; () leaves it to libvirt
    cpu: Cpu | None = None
    domain_extra: tuple[etree._Element, ...] = ()  # e.g. <cputune>, placed after <vcpu>
    devices_extra: tuple[etree._Element, ...] = ()  # appended to <devices>, in order
    graphics_vnc: bool = True  # VNC on 127.0.0.1, port chosen by libvirt
    serial_console: bool = True  # <serial type='pty'> + <console type='pty'>
    bios_useserial: bool = False  # <bios useserial='yes'/>: BIOS output on the serial port
    kernel: KernelBoot | None = None  # boot this kernel directly (then `boot` is ignored)
    # What a reboot from inside the guest does: "destroy" ends the domain; None
    # writes no <on_reboot>, which is libvirt's default, restart.
    on_reboot: str | None = None
    # cairn's <metadata> (the mark of a managed VM, its start order); None: none
    start: StartOrder | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[^\s/]+", self.name):
            raise SpecError(f"domain name {self.name!r} must be non-empty, no spaces or '/'")
        if not _UUID.fullmatch(self.uuid):
            raise SpecError(f"uuid {self.uuid!r} of {self.name} is not a UUID")
        if self.memory_mib < 1 or self.vcpus < 1:
            raise SpecError(f"{self.name} needs at least 1 MiB of memory and 1 vcpu")
        for value, what in ((self.domain_type, "type"), (self.arch, "arch")):
            if not re.fullmatch(r"[\w-]+", value):
                raise SpecError(f"domain {what} {value!r} of {self.name} is not a plain word")
        if not re.fullmatch(r"[\w.-]+", self.machine):
            raise SpecError(f"machine type {self.machine!r} of {self.name} is not like pc or q35")
        for device in self.boot:
            _one_of(device, BOOT_DEVICES, "boot device")
        if self.on_reboot is not None:
            _one_of(self.on_reboot, ON_REBOOT, "on_reboot action")
        if len(set(self.boot)) != len(self.boot):
            raise SpecError(f"boot order {self.boot} of {self.name} names a device twice")
        devices = [disk.device for disk in self.disks]
        if len(set(devices)) != len(devices):
            raise SpecError(f"disk device names {devices} of {self.name} must be distinct")
        _elements(self.features or (), "features")
        _elements(self.domain_extra, "domain extra elements")
        _elements(self.devices_extra, "device extra elements")
        for element in self.domain_extra:
            if element.tag in BUILDER_OWNED:
                raise SpecError(f"<{element.tag}> cannot be an extra element of <domain>")

    @property
    def is_q35(self) -> bool:
        """True for the q35 machine family (SATA, no IDE); False for pc-i440fx ("pc")."""
        return self.machine == "q35" or self.machine.startswith("pc-q35")
