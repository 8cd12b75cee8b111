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
