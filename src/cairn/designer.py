"""Policy: a VM definition + its resolved attributes -> a domain spec. No I/O.

Here live the choices Rocks made and cairn keeps: boot order (cdrom, network,
hd with a CDROM; network, hd without), a reboot that ends an install (its
installer reboots the guest at its end), what each seed attribute means
(cpu_mode, kvm_cpu_pinning, kvm_device_N, HVM_Features), where a NIC attaches
(its network's libvirt network, else its bridge, else user-mode networking).
XML-valued attributes are parsed here, again, whatever was checked when they
were set; errors name the attribute, the host and the scope it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from cairn.attrs import wellknown
from cairn.attrs.scopes import Resolved
from cairn.attrs.wellknown import DEVICE_ATTR, integer
from cairn.domainxml.cpu import pin_all
from cairn.domainxml.cpumode import NO_CPU, parse_cpu_mode
from cairn.domainxml.fragments import (
    DEVICE_ROOTS,
    DOMAIN_CHILD_ROOTS,
    FEATURE_ROOTS,
    parse_fragment,
)
from cairn.domainxml.spec import Cdrom, Cpu, Disk, DomainSpec, KernelBoot, Nic
from cairn.errors import CairnError
from cairn.metadata import StartOrder

DEFAULT_MACHINE = "pc"  # an alias QEMU keeps pointing at its newest i440fx machine


@dataclass(frozen=True)
class VMDisk:
    kind: str  # file | qcow2 | phy
    path: str
    device: str
    bus: str


@dataclass(frozen=True)
class VMNic:
    mac: str
    bridge: str | None = None
    libvirt_network: str | None = None
    iface: str = ""
    network: str | None = None  # the database network it is on; None: user-mode NAT


@dataclass(frozen=True)
class VMFacts:
    """What the database says about one VM, without the ORM."""

    name: str
    uuid: str
    memory_mb: int
    cpus: int
    cdrom: str | None
    disks: tuple[VMDisk, ...]
    nics: tuple[VMNic, ...]
    # The kernel it boots itself while it installs (cairn.vms.kernelboot), if any.
    kernel: KernelBoot | None = None
    # Its boot action is install (from the network, or with `kernel`).
    installing: bool = False


@dataclass
class Design:
    spec: DomainSpec
    notes: list[str] = field(default_factory=list)


# Every attribute a design reads; `reads` gives them to `vms.templates`, which
# builds one document for all VMs that agree on them (and on their facts).
DESIGN_ATTRS = (
    "HVM_Features",
    "cpu_mode",
    "kvm_bios_useserial",
    "kvm_cpu_pinning",
    "kvm_machine_type",
    "kvm_start_delay",
    "kvm_start_order",
)
_DEVICE_PREFIX = "kvm_device"  # kvm_device_N, and misnamed ones for their note


def reads(attrs: Mapping[str, Resolved]) -> list[str]:
    """The names of the attributes the design of a VM with `attrs` reads."""
    return [*DESIGN_ATTRS, *sorted(n for n in attrs if n.startswith(_DEVICE_PREFIX))]


class _Attrs:
    def __init__(self, vm: str, attrs: Mapping[str, Resolved]):
        self.vm = vm
        self.attrs = attrs

    def get(self, name: str) -> str | None:
        assert name in DESIGN_ATTRS or name.startswith(_DEVICE_PREFIX), f"{name}: not in reads()"
        return wellknown.text(self.attrs, name)

    def flag(self, name: str) -> bool:
        assert name in DESIGN_ATTRS, f"{name}: not in reads()"
        return wellknown.flag(self.attrs, name, self.vm)

    def what(self, name: str) -> str:
        return wellknown.what(name, self.vm, self.attrs.get(name))


def design(facts: VMFacts, attrs: Mapping[str, Resolved], *, domain_type: str = "kvm") -> Design:
    a = _Attrs(facts.name, attrs)
    notes: list[str] = []
    devices = _devices(a, notes)
    spec = DomainSpec(
        name=facts.name,
        uuid=facts.uuid,
        memory_mib=facts.memory_mb,
        vcpus=facts.cpus,
        domain_type=domain_type,
        machine=a.get("kvm_machine_type") or DEFAULT_MACHINE,
        features=_features(a),
        disks=tuple(disk_spec(d) for d in facts.disks),
        cdrom=Cdrom(facts.cdrom) if facts.cdrom else None,
        nics=tuple(_nic(facts.name, n, notes) for n in facts.nics),
        boot=("cdrom", "network", "hd") if facts.cdrom else ("network", "hd"),
        cpu=_cpu(a),
        domain_extra=_pinning(a, facts.cpus, notes),
        devices_extra=devices,
        # A serial device of the administrator's takes the first port (where the
        # BIOS writes with kvm_bios_useserial) instead of cairn's pty console.
        serial_console=not any(e.tag == "serial" for e in devices),
        bios_useserial=a.flag("kvm_bios_useserial"),
        kernel=facts.kernel,
        # The installer reboots the guest when it is done: that ends the domain
        # (Rocks' on_reboot=destroy) instead of booting into the installer again;
        # the watcher then sets its boot to os, so the next start boots the OS.
        on_reboot="destroy" if facts.installing or facts.kernel is not None else None,
        start=StartOrder(_number(a, "kvm_start_order"), _number(a, "kvm_start_delay") or 0),
    )
    return Design(spec, notes)


def _cpu(a: _Attrs) -> Cpu | None:
    value = a.get("cpu_mode")
    if value is None or value.strip().lower() in NO_CPU:
        return None
    return parse_cpu_mode(value, a.what("cpu_mode"))


def _number(a: _Attrs, name: str) -> int | None:
    value = a.get(name)
    return None if value is None else integer(name, value, a.what(name))


def _features(a: _Attrs) -> tuple[etree._Element, ...] | None:
    value = a.get("HVM_Features")
    if value is None:
        return None
    return parse_fragment(value, allowed_roots=FEATURE_ROOTS, what=a.what("HVM_Features"))


def _pinning(a: _Attrs, vcpus: int, notes: list[str] | None = None) -> tuple[etree._Element, ...]:
    value = a.get("kvm_cpu_pinning")
    if value is None or not value.strip():
        return ()
    if value.strip() == "pin_all":
        return (pin_all(vcpus),)
    what = a.what("kvm_cpu_pinning")
    elements = parse_fragment(value, allowed_roots=DOMAIN_CHILD_ROOTS, what=what)
    # libvirt drops the pin of a vCPU the VM does not have, saying nothing.
    missing = sorted(
        {
            int(n)
            for element in elements
            for pin in element.iter("vcpupin")
            if (n := pin.get("vcpu", "")).isdigit() and int(n) >= vcpus
        }
    )
    if missing and notes is not None:
        notes.append(
            f"{what} pins vcpu {', '.join(map(str, missing))}, but the VM has {vcpus} vCPU"
            f"{'s' if vcpus > 1 else ''}: libvirt ignores those pins (give the VM more"
            " with 'cairn set host vm ... cpus=N', or pin only the vCPUs it has)"
        )
    return elements


def _devices(a: _Attrs, notes: list[str]) -> tuple[etree._Element, ...]:
    numbered = sorted(
        (int(m.group(1)), name) for name in a.attrs if (m := DEVICE_ATTR.fullmatch(name))
    )
    for name in sorted(a.attrs):  # set before cairn refused such names
        if name.startswith(_DEVICE_PREFIX) and not DEVICE_ATTR.fullmatch(name):
            notes.append(
                f"host {a.vm}: attribute {name} is not read; name it kvm_device_N (N without"
                " leading zeros) to add its devices"
            )
    out: list[etree._Element] = []
    previous = -1
    for number, name in numbered:
        if number != previous + 1:
            notes.append(
                f"host {a.vm}: {name} follows a gap in the kvm_device_N numbers; it is used"
                " anyway, in number order"
            )
        previous = number
        value = a.get(name) or ""
        elements = parse_fragment(value, allowed_roots=DEVICE_ROOTS, what=a.what(name))
        check_displays(elements, a.what(name))
        out.extend(elements)
    return tuple(out)


_LOOPBACK = ("127.", "::1", "localhost")


def check_displays(elements: tuple[etree._Element, ...], what: str) -> None:
    """Refuse a <graphics> that would listen on a network address: a VM's display
    is reached through the container's loopback (cairn report host vm vnc)."""
    for element in elements:
        for graphics in element.iter("graphics"):
            places = [graphics.get("listen")]
            for listen in graphics.iter("listen"):
                kind = listen.get("type", "address")
                if kind == "address":
                    places.append(listen.get("address"))
                elif kind == "network":  # an address of that network: never loopback
                    places.append(f"network {listen.get('network', '')}")
            for place in places:
                if place is not None and not place.startswith(_LOOPBACK):
                    raise CairnError(
                        f"{what}: a display listening on {place} would be open to the"
                        " network; listen on 127.0.0.1 and reach it through SSH"
                        " (see: cairn report host vm vnc)"
                    )


def blame(facts: VMFacts, attrs: Mapping[str, Resolved]) -> None:
    """Raise the schema error of the first raw-XML attribute that fails on its own.

    Called when a whole document fails libvirt's schema, so that the error names
    the attribute, the host and the scope to fix.
    """
    from cairn.domainxml import probe

    a = _Attrs(facts.name, attrs)
    for name in sorted(attrs):
        if name == "cpu_mode" and (cpu := _cpu(a)) is not None:
            probe.check(a.what(name), cpu=cpu)
        elif name == "kvm_cpu_pinning":
            probe.check(a.what(name), domain=_pinning(a, facts.cpus))
        elif name == "HVM_Features":
            probe.check(a.what(name), features=_features(a))
        elif DEVICE_ATTR.fullmatch(name):
            elements = parse_fragment(
                a.get(name) or "", allowed_roots=DEVICE_ROOTS, what=a.what(name)
            )
            probe.check(a.what(name), devices=elements)


def disk_spec(d: VMDisk) -> Disk:
    """The spec of one disk: phy is a raw block device, file a raw image, qcow2 a qcow2 one."""
    if d.kind == "phy":
        return Disk(d.path, d.device, d.bus, "raw", "block")
    return Disk(d.path, d.device, d.bus, "qcow2" if d.kind == "qcow2" else "raw", "file")


def _nic(vm: str, n: VMNic, notes: list[str]) -> Nic:
    if n.libvirt_network:
        return Nic(n.mac, "network", n.libvirt_network)
    if n.bridge:
        return Nic(n.mac, "bridge", n.bridge)
    if n.network is not None:
        raise CairnError(
            f"host {vm} {n.iface}: network {n.network} has no bridge for VMs (give it one:"
            f" cairn set network {n.network} bridge=NAME)"
        )
    notes.append(
        f"host {vm} {n.iface or n.mac}: on no network, so it gets user-mode networking (NAT"
        " through the container, unreachable from the cluster); put it on one with"
        f" 'cairn set host interface {vm} {n.iface or 'IFACE'} subnet=NETWORK'"
    )
    return Nic(n.mac, "user", None)
