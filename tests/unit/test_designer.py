"""cairn.designer without a database: a VM definition + resolved attributes -> a domain
spec, with the policy of the Rocks KVM roll (boot order, what each seed attribute
means, where a NIC attaches) and errors that name attribute, host and scope.

Every spec built here is rendered with cairn.domainxml and validated against libvirt's
RelaxNG schema.
"""

from __future__ import annotations

import pytest
from lxml import etree

from cairn.attrs.escape import escape
from cairn.attrs.scopes import Resolved
from cairn.designer import VMDisk, VMFacts, VMNic, design
from cairn.domainxml import schema
from cairn.domainxml.domain import build_domain
from cairn.errors import CairnError

UUID = "6f1c2b9e-3d4a-4c8b-9e7f-0a1b2c3d4e5f"
FACTS = VMFacts(
    name="hosted-vm-0-2-0",
    uuid=UUID,
    memory_mb=2048,
    cpus=4,
    cdrom=None,
    disks=(VMDisk("file", "/var/lib/libvirt/images/hosted-vm-0-2-0.vda", "vda", "virtio"),),
    nics=(VMNic("52:54:00:00:00:02", bridge="br0"),),
)


def attrs(**values: str | tuple[str, str]) -> dict[str, Resolved]:
    """Attributes as resolve() gives them: stored escaped, with a source tag (H default)."""
    out = {}
    for name, given in values.items():
        value, source = given if isinstance(given, tuple) else (given, "H")
        out[name] = Resolved(escape(value), source)
    return out


def built(facts: VMFacts = FACTS, **values: str | tuple[str, str]) -> etree._Element:
    root = build_domain(design(facts, attrs(**values)).spec)
    schema.validate(root, what=f"domain XML of {facts.name}")
    return root


def refusal(facts: VMFacts = FACTS, **values: str | tuple[str, str]) -> str:
    with pytest.raises(CairnError) as caught:
        design(facts, attrs(**values))
    message = str(caught.value)
    assert "\n" not in message
    return message


def replace(facts: VMFacts, **changes: object) -> VMFacts:
    from dataclasses import replace as copy

    return copy(facts, **changes)


# -- the plain VM ----------------------------------------------------------------------------


def test_a_vm_without_attributes() -> None:
    made = design(FACTS, {})
    assert made.notes == []
    spec = made.spec
    assert (spec.name, spec.uuid, spec.memory_mib, spec.vcpus) == (FACTS.name, UUID, 2048, 4)
    assert spec.domain_type == "kvm" and spec.machine == "pc"
    assert spec.boot == ("network", "hd")
    assert spec.cpu is None and spec.features is None and spec.cdrom is None
    assert spec.domain_extra == () and spec.devices_extra == ()
    assert spec.bios_useserial is False
    root = built()
    assert root.findtext("name") == FACTS.name
    assert [c.tag for c in root.find("features")] == ["acpi", "apic", "pae"]


def test_the_domain_type_is_the_callers() -> None:
    assert design(FACTS, {}, domain_type="qemu").spec.domain_type == "qemu"


def test_a_cdrom_changes_the_boot_order() -> None:
    spec = design(replace(FACTS, cdrom="/isos/a.iso"), {}).spec
    assert spec.boot == ("cdrom", "network", "hd")
    assert spec.cdrom is not None and spec.cdrom.path == "/isos/a.iso"


@pytest.mark.parametrize(
    ("disk", "expected"),
    [
        (VMDisk("file", "/a.img", "vda", "virtio"), ("file", "raw", "/a.img", "vda", "virtio")),
        (VMDisk("qcow2", "/a.q", "hda", "ide"), ("file", "qcow2", "/a.q", "hda", "ide")),
        (VMDisk("phy", "/dev/sdb", "sda", "scsi"), ("block", "raw", "/dev/sdb", "sda", "scsi")),
    ],
)
def test_disk_kinds(disk: VMDisk, expected: tuple[str, ...]) -> None:
    (made,) = design(replace(FACTS, disks=(disk,)), {}).spec.disks
    assert (made.kind, made.fmt, made.path, made.device, made.bus) == expected
    built(replace(FACTS, disks=(disk,)))


def test_where_nics_attach() -> None:
    nics = (
        VMNic("52:54:00:00:00:02", bridge="br0"),
        VMNic("52:54:00:00:00:03", bridge="br1", libvirt_network="default"),
        VMNic("52:54:00:00:00:04", libvirt_network="isolated"),
        VMNic("52:54:00:00:00:05"),
    )
    spec = design(replace(FACTS, nics=nics), {}).spec
    assert [(n.source_kind, n.source) for n in spec.nics] == [
        ("bridge", "br0"),
        ("network", "default"),
        ("network", "isolated"),
        ("user", None),
    ]
    root = built(replace(FACTS, nics=nics))
    assert [i.get("type") for i in root.iter("interface")] == [
        "bridge",
        "network",
        "network",
        "user",
    ]


# -- cpu_mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["host-model", "host-passthrough"])
def test_cpu_mode_alone(mode: str) -> None:
    cpu = built(cpu_mode=mode).find("cpu")
    assert cpu.attrib == {"mode": mode} and len(cpu) == 0


def test_the_seed_cpu_mode() -> None:
    cpu = built(
        cpu_mode="exact: <model fallback='allow'>core2duo</model><vendor>Intel</vendor>"
        "<topology sockets='1' cores='2'/>"
    ).find("cpu")
    assert cpu.attrib == {"mode": "custom", "match": "exact"}
    assert [c.tag for c in cpu] == ["model", "vendor", "topology"]
    assert cpu.find("topology").attrib == {"sockets": "1", "cores": "2", "threads": "1"}


def test_a_bad_cpu_mode_names_attribute_host_and_scope() -> None:
    message = refusal(cpu_mode=("warp", "G"))
    assert message.startswith("attribute cpu_mode of host hosted-vm-0-2-0 (global scope): ")


# -- kvm_cpu_pinning -------------------------------------------------------------------------


def test_pin_all() -> None:
    root = built(kvm_cpu_pinning=" pin_all\n")
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [(str(i), str(i)) for i in range(4)]


@pytest.mark.parametrize("blank", ["", "  ", "\n"])
def test_blank_pinning_is_no_pinning(blank: str) -> None:
    assert design(FACTS, attrs(kvm_cpu_pinning=blank)).spec.domain_extra == ()


def test_the_seed_pinning_with_its_backslashes() -> None:
    value = (
        '<cputune>\\ <vcpupin vcpu="0" cpuset="4"/>\\ <vcpupin vcpu="1" cpuset="5"/>\\'
        ' <vcpupin vcpu="2" cpuset="6"/>\\ <vcpupin vcpu="3" cpuset="7"/>\\ </cputune>'
    )
    root = built(kvm_cpu_pinning=value)
    assert "\\" not in etree.tostring(root, encoding="unicode")
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [("0", "4"), ("1", "5"), ("2", "6"), ("3", "7")]


def test_a_pinning_error_names_the_appliance_scope() -> None:
    message = refusal(kvm_cpu_pinning=("<cputune>", "A"))
    assert message.startswith("attribute kvm_cpu_pinning of host hosted-vm-0-2-0 (appliance scope)")


# -- kvm_device_N ----------------------------------------------------------------------------


def test_devices_in_number_order_and_a_note_for_each_gap() -> None:
    made = design(
        FACTS,
        attrs(
            kvm_device_10="<panic model='isa'/>",
            kvm_device_2="<watchdog model='i6300esb'/>",
            kvm_device_0="<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
            kvm_device_x="<sound model='ich6'/>",  # not a number: not a device attribute
            kvm_devices_1="<sound model='ich6'/>",
        ),
    )
    assert [e.tag for e in made.spec.devices_extra] == ["rng", "watchdog", "panic"]
    gaps = [n for n in made.notes if "follows a gap" in n]
    assert len(gaps) == 2
    assert "kvm_device_2 follows a gap" in gaps[0]
    assert "kvm_device_10 follows a gap" in gaps[1]
    unread = sorted(n.split("attribute ")[1].split()[0] for n in made.notes if "not read" in n)
    assert unread == ["kvm_device_x", "kvm_devices_1"]  # said, not silently ignored
    assert all(n.startswith("host hosted-vm-0-2-0: ") for n in made.notes)
    root = build_domain(made.spec)
    schema.validate(root)
    assert [d.tag for d in root.find("devices")][-3:] == ["rng", "watchdog", "panic"]


def test_devices_starting_above_zero_are_noted() -> None:
    made = design(FACTS, attrs(kvm_device_1="<panic model='isa'/>"))
    assert len(made.notes) == 1 and "kvm_device_1" in made.notes[0]


def test_the_original_value_is_used_not_the_escaped_one() -> None:
    # Stored as &lt;panic ...&gt; (seed escaping); the designer unescapes it.
    stored = attrs(kvm_device_0="<panic model='isa'/>")
    assert stored["kvm_device_0"].value.startswith("&lt;panic")
    (panic,) = design(FACTS, stored).spec.devices_extra
    assert panic.tag == "panic" and panic.get("model") == "isa"


@pytest.mark.parametrize(
    ("source", "scope"), [("H", "host"), ("A", "appliance"), ("O", "os"), ("G", "global")]
)
def test_a_device_error_names_attribute_host_and_scope(source: str, scope: str) -> None:
    message = refusal(kvm_device_3=("<rng model='virtio'>", source))
    assert message.startswith(f"attribute kvm_device_3 of host hosted-vm-0-2-0 ({scope} scope)")


def test_a_device_may_not_be_outside_devices() -> None:
    message = refusal(kvm_device_0="<cputune/>")
    assert "kvm_device_0" in message and "<cputune> is not allowed" in message


# -- HVM_Features, machine type, bios --------------------------------------------------------


def test_hvm_features() -> None:
    root = built(HVM_Features="<acpi/><apic/><hyperv mode='custom'><relaxed state='on'/></hyperv>")
    assert [c.tag for c in root.find("features")] == ["acpi", "apic", "hyperv"]


def test_hvm_features_error_names_the_scope() -> None:
    assert "(os scope)" in refusal(HVM_Features=("<devices/>", "O"))


def test_q35_and_its_cdrom() -> None:
    root = built(replace(FACTS, cdrom="/isos/a.iso"), kvm_machine_type="q35")
    assert root.find("os/type").get("machine") == "q35"
    (cdrom,) = [d for d in root.iter("disk") if d.get("device") == "cdrom"]
    assert cdrom.find("target").get("bus") == "sata"


@pytest.mark.parametrize(("value", "present"), [("yes", True), ("TRUE", True), ("off", False)])
def test_bios_useserial(value: str, present: bool) -> None:
    assert (built(kvm_bios_useserial=value).find("os/bios") is not None) is present


def test_a_bad_bios_useserial_names_attribute_host_and_scope() -> None:
    message = refusal(kvm_bios_useserial=("maybe", "A"))
    assert message.startswith(
        "attribute kvm_bios_useserial of host hosted-vm-0-2-0 (appliance scope): "
    )


def test_all_seed_attributes_together() -> None:
    facts = replace(
        FACTS,
        cdrom="/dev/sr0",
        disks=(*FACTS.disks, VMDisk("qcow2", "/data/b.qcow2", "vdb", "virtio")),
        nics=(*FACTS.nics, VMNic("52:54:00:00:00:09")),
    )
    root = built(
        facts,
        cpu_mode="strict:<model>core2duo</model>",
        kvm_cpu_pinning="pin_all",
        kvm_device_0="<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
        kvm_device_1="<panic model='isa'/>",
        HVM_Features="<acpi/><apic/>",
        kvm_bios_useserial="yes",
    )
    assert [b.get("dev") for b in root.findall("os/boot")] == ["cdrom", "network", "hd"]
    assert root.find("cpu").attrib == {"mode": "custom", "match": "strict"}
    assert len(root.findall("cputune/vcpupin")) == 4
    assert [d.tag for d in root.find("devices")][-2:] == ["hostdev", "panic"]
    assert len(root.findall("devices")) == 1 and len(root.findall("os")) == 1
