"""schema.validate against libvirt's domain.rng: acceptance, refusal messages, loading."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from cairn.domainxml import schema
from cairn.domainxml.domain import build_domain
from cairn.domainxml.fragments import DEVICE_ROOTS, parse_fragment
from cairn.domainxml.spec import DomainSpec
from cairn.errors import CairnError


def refusal(domain: etree._Element) -> str:
    with pytest.raises(schema.SchemaError) as caught:
        schema.validate(domain, what="domain XML of vm-0-0-0")
    message = str(caught.value)
    assert message.startswith("domain XML of vm-0-0-0 is refused by libvirt's schema")
    assert "\n" not in message
    return message


def test_schema_is_here_and_cached() -> None:
    assert schema.schema_available()
    assert schema.load_schema(schema.SCHEMA_PATH) is schema.load_schema(schema.SCHEMA_PATH)
    assert issubclass(schema.SchemaError, CairnError)


def test_valid_minimal(minimal: DomainSpec) -> None:
    schema.validate(build_domain(minimal))


def test_bad_device_attribute_is_named(minimal: DomainSpec) -> None:
    device = parse_fragment(
        "<hostdev mode='subsystem' type='pci' bogus='1'><source>"
        "<address bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
        allowed_roots=DEVICE_ROOTS,
        what="kvm_device_0",
    )
    message = refusal(build_domain(replace(minimal, devices_extra=device)))
    assert "Invalid attribute bogus for element hostdev" in message
    assert "/domain/devices/hostdev" in message
    assert "line " in message


def test_bad_value_deep_inside_is_named(minimal: DomainSpec) -> None:
    device = parse_fragment(
        "<hostdev mode='subsystem' type='pci'><source>"
        "<address bus='0x06' slot='zz' function='0x0'/></source></hostdev>",
        allowed_roots=DEVICE_ROOTS,
        what="kvm_device_0",
    )
    message = refusal(build_domain(replace(minimal, devices_extra=device)))
    assert "slot" in message
    assert "/domain/devices/hostdev/source/address" in message


def test_line_numbers_are_those_of_to_xml(minimal: DomainSpec) -> None:
    domain = build_domain(minimal)
    domain.find("memory").text = "lots"
    assert "line 4:" in refusal(domain)


def test_a_duplicate_element_is_refused(minimal: DomainSpec) -> None:
    domain = build_domain(minimal)
    etree.SubElement(domain, "devices")
    assert "devices" in refusal(domain)


def test_not_a_domain() -> None:
    refusal(etree.Element("network"))


def test_missing_schema_names_the_package(tmp_path: Path, minimal: DomainSpec) -> None:
    missing = tmp_path / "domain.rng"
    assert not schema.schema_available(missing)
    with pytest.raises(schema.SchemaError) as caught:
        schema.validate(build_domain(minimal), path=missing)
    assert "libvirt0" in str(caught.value)
    assert str(missing) in str(caught.value)


def test_unloadable_schema(tmp_path: Path, minimal: DomainSpec) -> None:
    broken = tmp_path / "domain.rng"
    broken.write_text("<grammar xmlns='http://relaxng.org/ns/structure/1.0'><start/></grammar>")
    with pytest.raises(schema.SchemaError, match="cannot be loaded"):
        schema.validate(build_domain(minimal), path=broken)


# -- Checked: one validation per shape of document in a batch ------------------

MULTICAST = "53:54:00:00:00:01"  # an odd first octet: libvirt's schema refuses it on a NIC


def _vm(minimal: DomainSpec, n: int, *, mac: str | None = None, **changes: object) -> DomainSpec:
    """VM number n: its own name, UUID, MAC and disk path, the rest as `minimal`."""
    from cairn.domainxml.spec import Disk, Nic

    name = f"vm-0-0-{n}"
    return replace(
        minimal,
        name=name,
        uuid=f"6f1c2b9e-3d4a-4c8b-9e7f-{n:012x}",
        disks=(Disk(f"/var/lib/libvirt/images/{name}.vda", "vda", "virtio", "raw", "file"),),
        nics=(Nic(mac or f"52:54:00:00:{n // 256:02x}:{n % 256:02x}", "bridge", "br0"),),
        **changes,
    )


def test_one_validation_per_shape(minimal: DomainSpec, monkeypatch) -> None:
    """VMs that differ only in name, UUID, MAC and the name in their disk's path
    are validated once; anything else makes a shape of its own."""
    calls: list[str] = []
    real = schema.validate
    monkeypatch.setattr(
        schema, "validate", lambda e, **k: calls.append(e.findtext("name")) or real(e, **k)
    )
    checked = schema.Checked()
    for n in range(5):
        checked.validate(build_domain(_vm(minimal, n)))
    assert calls == ["vm-0-0-0"]
    checked.validate(build_domain(_vm(minimal, 5, memory_mib=4096)))  # another size
    checked.validate(build_domain(_vm(minimal, 6, vcpus=3)))
    assert calls == ["vm-0-0-0", "vm-0-0-5", "vm-0-0-6"]
    checked.validate(build_domain(_vm(minimal, 7, memory_mib=4096)))
    assert len(calls) == 3
    moved = _vm(minimal, 8)
    from cairn.domainxml.spec import Disk

    moved = replace(moved, disks=(Disk("/other/vm-0-0-8.vda", "vda", "virtio", "raw", "file"),))
    checked.validate(build_domain(moved))  # a path other than its name: validated
    assert calls[-1] == "vm-0-0-8"
    assert schema.Checked()._passed == set()  # a batch's memory is its own


def test_a_value_the_schema_refuses_is_never_taken_for_a_checked_shape(minimal: DomainSpec) -> None:
    """A multicast MAC looks like the others but is not masked: refused."""
    checked = schema.Checked()
    checked.validate(build_domain(_vm(minimal, 1)))
    with pytest.raises(schema.SchemaError, match="domain XML of vm-0-0-2"):
        checked.validate(
            build_domain(_vm(minimal, 2, mac=MULTICAST)), what="domain XML of vm-0-0-2"
        )
    user = parse_fragment(
        "<hostdev mode='subsystem' type='pci' bogus='1'><source>"
        "<address bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
        allowed_roots=DEVICE_ROOTS,
        what="kvm_device_0",
    )
    with pytest.raises(schema.SchemaError, match="bogus"):
        checked.validate(build_domain(_vm(minimal, 3, devices_extra=user)))
    with pytest.raises(schema.SchemaError, match="bogus"):  # failed shapes are not remembered
        checked.validate(build_domain(_vm(minimal, 4, devices_extra=user)))


def test_the_shape_leaves_the_document_as_it_was(minimal: DomainSpec) -> None:
    from cairn.domainxml.domain import to_xml

    domain = build_domain(_vm(minimal, 9))
    before = to_xml(domain)
    schema.Checked().validate(domain)
    assert to_xml(domain) == before
