"""build_domain and the element builders: goldens, boot order, cdrom placement, guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from domainxml_seed import SEED_DEVICE_QUOTED, SEED_PINNING
from lxml import etree

from cairn.domainxml.cpu import pin_all
from cairn.domainxml.cpumode import parse_cpu_mode
from cairn.domainxml.domain import build_domain, to_xml
from cairn.domainxml.fragments import DEVICE_ROOTS, FEATURE_ROOTS, parse_fragment
from cairn.domainxml.spec import Cdrom, Cpu, Disk, DomainSpec, Nic, SpecError

Build = Callable[[DomainSpec], etree._Element]
Golden = Callable[[str, etree._Element], None]
UUID = "6f1c2b9e-3d4a-4c8b-9e7f-0a1b2c3d4e5f"


def full_spec() -> DomainSpec:
    extra = parse_fragment(
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address bus='0x06' slot='0x02' function='0x0'/></source></hostdev>"
        "<serial type='file'><source path='/var/log/vm-0-0-0.serial'/></serial>",
        allowed_roots=DEVICE_ROOTS,
        what="kvm_device_0",
    )
    return DomainSpec(
        name="vm-0-0-0",
        uuid=UUID,
        memory_mib=2048,
        vcpus=4,
        disks=(
            Disk("/state/partition1/kvm/disks/vm-0-0-0.vda", "vda", "virtio", "qcow2", "file"),
            Disk("/dev/mapper/vg0-vm--0--0--0", "vdb", "virtio", "raw", "block"),
        ),
        cdrom=Cdrom("/export/isos/kernel.iso"),
        nics=(
            Nic("52:54:00:0A:01:02", "bridge", "br0"),
            Nic("52:54:00:0a:01:03", "user", None, model="e1000"),
        ),
        boot=("cdrom", "network", "hd"),
        cpu=parse_cpu_mode(
            "exact: <model fallback='allow'>core2duo</model><vendor>Intel</vendor>"
            "<topology sockets='1' cores='2' threads='2'/>",
            "cpu_mode",
        ),
        domain_extra=(pin_all(4),),
        devices_extra=extra,
    )


def q35_spec() -> DomainSpec:
    return DomainSpec(
        name="hosted-vm-0-2-0",
        uuid=UUID.replace("-", ""),
        memory_mib=512,
        vcpus=2,
        machine="pc-q35-7.2",
        features=parse_fragment(
            "<acpi/><apic/><smm state='on'/>", allowed_roots=FEATURE_ROOTS, what="f"
        ),
        disks=(
            Disk("/vm/a.img", "sda", "sata", "raw", "file"),
            Disk("/vm/b.img", "sdc", "scsi", "raw", "file"),
        ),
        cdrom=Cdrom("/dev/sr0"),
        nics=(Nic("52:54:00:00:00:01", "network", "default"),),
        boot=("hd", "network"),
        cpu=Cpu("host-passthrough"),
        graphics_vnc=False,
        bios_useserial=True,
    )


def test_minimal_golden(minimal: DomainSpec, build: Build, golden: Golden) -> None:
    golden("minimal", build(minimal))


def test_full_golden(build: Build, golden: Golden) -> None:
    golden("full", build(full_spec()))


def test_q35_golden(build: Build, golden: Golden) -> None:
    golden("q35", build(q35_spec()))


def test_boot_order_is_kept_inside_os(build: Build, minimal: DomainSpec) -> None:
    domain = build(replace(minimal, boot=("network", "cdrom", "hd")))
    assert [boot.get("dev") for boot in domain.iterfind("os/boot")] == ["network", "cdrom", "hd"]
    assert domain.find(".//devices//boot") is None


@pytest.mark.parametrize(
    ("machine", "disks", "expected"),
    [
        ("pc", (), ("ide", "hdc")),
        ("pc-i440fx-7.2", (("hdc", "ide"),), ("ide", "hdd")),
        ("pc", (("hdc", "ide"), ("hdd", "ide"), ("hda", "ide")), ("ide", "hdb")),
        ("q35", (), ("sata", "sdc")),
        ("pc-q35-7.2", (("sdc", "scsi"), ("sdd", "sata")), ("sata", "sde")),
    ],
)
def test_cdrom_bus_and_name(
    build: Build,
    minimal: DomainSpec,
    machine: str,
    disks: tuple[tuple[str, str], ...],
    expected: tuple[str, str],
) -> None:
    spec = replace(
        minimal,
        machine=machine,
        disks=tuple(Disk(f"/vm/{dev}.img", dev, bus, "raw", "file") for dev, bus in disks),
        cdrom=Cdrom("/isos/boot.iso"),
    )
    target = build(spec).find("devices/disk[@device='cdrom']/target")
    assert target is not None
    assert (target.get("bus"), target.get("dev")) == expected


def test_no_free_cdrom_name(minimal: DomainSpec) -> None:
    disks = tuple(Disk(f"/vm/{d}", d, "ide", "raw", "file") for d in ("hda", "hdb", "hdc", "hdd"))
    with pytest.raises(SpecError, match="no free ide device name"):
        build_domain(replace(minimal, disks=disks, cdrom=Cdrom("/isos/a.iso")))


def test_block_cdrom(build: Build, minimal: DomainSpec) -> None:
    cdrom = build(replace(minimal, cdrom=Cdrom("/dev/sr0"))).find("devices/disk[@device='cdrom']")
    assert cdrom is not None
    assert cdrom.get("type") == "block"
    assert cdrom.find("source").attrib == {"dev": "/dev/sr0"}


def test_features_none_default_and_empty(build: Build, minimal: DomainSpec) -> None:
    assert [f.tag for f in build(minimal).find("features")] == ["acpi", "apic", "pae"]
    assert build(replace(minimal, features=())).find("features") is None


def test_no_emulator(build: Build) -> None:
    assert build(full_spec()).find("devices/emulator") is None


def test_pin_all() -> None:
    cputune = pin_all(3)
    assert [(p.tag, p.get("vcpu"), p.get("cpuset")) for p in cputune] == [
        ("vcpupin", "0", "0"),
        ("vcpupin", "1", "1"),
        ("vcpupin", "2", "2"),
    ]
    with pytest.raises(SpecError):
        pin_all(0)


def test_seed_pinning_in_a_four_vcpu_domain(build: Build, minimal: DomainSpec) -> None:
    pinning = parse_fragment(SEED_PINNING, allowed_roots=frozenset({"cputune"}), what="pin")
    text = to_xml(build(replace(minimal, vcpus=4, domain_extra=pinning)))
    assert "\\" not in text
    assert text.count("<vcpupin ") == 4


def test_seed_device_lands_under_devices(build: Build, minimal: DomainSpec) -> None:
    device = parse_fragment(SEED_DEVICE_QUOTED, allowed_roots=DEVICE_ROOTS, what="kvm_device_0")
    domain = build(replace(minimal, devices_extra=device))
    assert domain.find("devices")[-1].tag == "hostdev"
    assert domain.find("hostdev") is None


def test_building_twice_leaves_the_spec_alone(build: Build) -> None:
    spec = full_spec()
    first, second = to_xml(build(spec)), to_xml(build(spec))
    assert first == second
    assert all(element.getparent() is None for element in spec.devices_extra)


def test_to_xml_does_not_touch_the_element(minimal: DomainSpec, build: Build) -> None:
    domain = build(minimal)
    before = etree.tostring(domain)
    text = to_xml(domain)
    assert etree.tostring(domain) == before
    assert text.startswith("<domain ") and text.endswith("</domain>\n")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Disk("/vm/a", "vda", "usb", "raw", "file"), "disk bus"),
        (lambda: Disk("/dev/sdb", "vda", "virtio", "qcow2", "block"), "format raw"),
        (lambda: Disk("vm/a", "vda", "virtio", "raw", "file"), "absolute"),
        (lambda: Disk("/vm/a", "xyz", "virtio", "raw", "file"), "device"),
        (lambda: Cdrom("boot.iso"), "absolute"),
        (lambda: Nic("52:54:00:00:00", "bridge", "br0"), "MAC"),
        (lambda: Nic("52:54:00:00:00:01", "user", "br0"), "source"),
        (lambda: Nic("52:54:00:00:00:01", "bridge", None), "source"),
        (lambda: Nic("52:54:00:00:00:01", "direct", "eth0"), "source kind"),
        (lambda: Cpu("exact"), "cpu mode"),
        (lambda: Cpu("host-model", match="exact"), "needs mode custom"),
        (lambda: DomainSpec("a b", UUID, 1, 1), "name"),
        (lambda: DomainSpec("a", "not-a-uuid", 1, 1), "uuid"),
        (lambda: DomainSpec("a", UUID, 0, 1), "memory"),
        (lambda: DomainSpec("a", UUID, 1, 1, boot=("floppy",)), "boot device"),
        (lambda: DomainSpec("a", UUID, 1, 1, boot=("hd", "hd")), "twice"),
        (lambda: DomainSpec("a", UUID, 1, 1, machine="pc q35"), "machine"),
        (
            lambda: DomainSpec("a", UUID, 1, 1, domain_extra=(etree.Element("devices"),)),
            "<devices>",
        ),
        (lambda: DomainSpec("a", UUID, 1, 1, devices_extra=(etree.Comment("x"),)), "elements"),
        (
            lambda: DomainSpec(
                "a", UUID, 1, 1, disks=(Disk("/a", "vda", "virtio", "raw", "file"),) * 2
            ),
            "distinct",
        ),
    ],
)
def test_spec_refuses(make: Callable[[], object], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        make()
