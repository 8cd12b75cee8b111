"""parse_fragment: the seed's raw-XML examples, shell damage, and injection attempts."""

from __future__ import annotations

import pytest
from domainxml_seed import SEED_DEVICE_AS_BASH_GIVES_IT, SEED_DEVICE_QUOTED, SEED_PINNING
from lxml import etree

from cairn.domainxml.fragments import (
    CPU_CHILD_ROOTS,
    DEVICE_ROOTS,
    DOMAIN_CHILD_ROOTS,
    FEATURE_ROOTS,
    FragmentError,
    parse_fragment,
)
from cairn.errors import CairnError

WHAT = "attribute kvm_device_0 of host vm-0-0-0 (host scope)"


def refusal(text: str, roots: frozenset[str] = DEVICE_ROOTS) -> str:
    with pytest.raises(FragmentError) as caught:
        parse_fragment(text, allowed_roots=roots, what=WHAT)
    message = str(caught.value)
    assert message.startswith(WHAT)
    assert "\n" not in message
    return message


def test_fragment_error_is_a_cairn_error() -> None:
    assert issubclass(FragmentError, CairnError)


def test_seed_pinning_loses_its_continuations() -> None:
    (cputune,) = parse_fragment(SEED_PINNING, allowed_roots=DOMAIN_CHILD_ROOTS, what=WHAT)
    text = etree.tostring(cputune, encoding="unicode")
    assert "\\" not in text
    pins = [(pin.get("vcpu"), pin.get("cpuset")) for pin in cputune]
    assert pins == [("0", "4"), ("1", "5"), ("2", "6"), ("3", "7")]


def test_continuation_with_a_real_newline_and_tabs() -> None:
    text = '<cputune>\\\n\t<vcpupin vcpu="0" cpuset="1"/>\\\r\n</cputune>'
    (cputune,) = parse_fragment(text, allowed_roots=DOMAIN_CHILD_ROOTS, what=WHAT)
    assert "\\" not in etree.tostring(cputune, encoding="unicode")
    assert len(cputune) == 1


def test_continuation_between_attributes_keeps_them_apart() -> None:
    (hostdev,) = parse_fragment(
        "<hostdev mode='subsystem'\\\n type='pci'/>", allowed_roots=DEVICE_ROOTS, what=WHAT
    )
    assert hostdev.attrib == {"mode": "subsystem", "type": "pci"}


def test_seed_device_as_bash_gives_it_is_refused_with_the_quoting_hint() -> None:
    message = refusal(SEED_DEVICE_AS_BASH_GIVES_IT)
    assert "lost their quotes" in message
    assert "double quotes" in message
    assert "value=\"<hostdev mode='subsystem' type='pci' managed='yes'>" in message


def test_seed_device_quoted_properly_is_accepted() -> None:
    (hostdev,) = parse_fragment(SEED_DEVICE_QUOTED, allowed_roots=DEVICE_ROOTS, what=WHAT)
    assert hostdev.tag == "hostdev"
    address = hostdev.find("source/address")
    assert address is not None
    assert address.attrib == {"bus": "0x06", "slot": "0x02", "function": "0x0"}
    assert "\\" not in etree.tostring(hostdev, encoding="unicode")


def test_several_top_level_elements_in_order() -> None:
    elements = parse_fragment(
        "<model fallback='allow'>core2duo</model> <vendor>Intel</vendor>\n"
        "<topology sockets='1' cores='2' threads='1'/>",
        allowed_roots=CPU_CHILD_ROOTS,
        what=WHAT,
    )
    assert [element.tag for element in elements] == ["model", "vendor", "topology"]


def test_results_are_detached_copies_without_tails() -> None:
    elements = parse_fragment("<acpi/>  <apic/>  ", allowed_roots=FEATURE_ROOTS, what=WHAT)
    for element in elements:
        assert element.getparent() is None
        assert element.tail is None


def test_cdata_comments_and_character_references_are_fine() -> None:
    (disk,) = parse_fragment(
        "<!-- a <!DOCTYPE in a comment --><disk><![CDATA[<&x;>]]>&#65;&amp;</disk>",
        allowed_roots=DEVICE_ROOTS,
        what=WHAT,
    )
    assert disk.text == "<&x;>A&"


@pytest.mark.parametrize(
    ("text", "roots", "expected"),
    [
        ("</cputune><devices>", DOMAIN_CHILD_ROOTS, "not well-formed"),
        ("</devices><disk>", DEVICE_ROOTS, "not well-formed"),
        ("<disk/></devices><devices><disk/>", DEVICE_ROOTS, "not well-formed"),
        ("<disk/></cairn-fragment-value><disk>", DEVICE_ROOTS, "not well-formed"),
        ("<disk>", DEVICE_ROOTS, "never closed"),
        ('<!DOCTYPE x [<!ENTITY e "boom">]><cputune>&e;</cputune>', DOMAIN_CHILD_ROOTS, "DOCTYPE"),
        ('<!ENTITY e "boom"><cputune/>', DOMAIN_CHILD_ROOTS, "ENTITY"),
        ("&xxe;", DEVICE_ROOTS, "&xxe;"),
        ("<disk>&xxe;</disk>", DEVICE_ROOTS, "&xxe;"),
        ("<?php ?>", DEVICE_ROOTS, "processing instruction"),
        ("<?xml version='1.0'?><disk/>", DEVICE_ROOTS, "processing instruction"),
        ("text <disk/>", DEVICE_ROOTS, "text outside"),
        ("<disk/> text", DEVICE_ROOTS, "text outside"),
        ("<disk/>x<disk/>", DEVICE_ROOTS, "text outside"),
        ("just words", DEVICE_ROOTS, "text outside"),
        ("<domain/>", DEVICE_ROOTS, "<domain> is not allowed"),
        ("<devices><disk/></devices>", DEVICE_ROOTS, "<devices> is not allowed"),
        ("<disk/>", DOMAIN_CHILD_ROOTS, "<disk> is not allowed"),
        ("<x:disk xmlns:x='urn:x'/>", DEVICE_ROOTS, "namespace"),
        ("<disk xmlns='urn:x'/>", DEVICE_ROOTS, "namespace"),
        ("<x:disk/>", DEVICE_ROOTS, "not well-formed"),
        ("", DEVICE_ROOTS, "empty"),
        (" \\\n ", DEVICE_ROOTS, "empty"),
        ("<disk>\x00</disk>", DEVICE_ROOTS, "not well-formed"),
        ("<disk>\ud800</disk>", DEVICE_ROOTS, "XML"),
    ],
)
def test_refused(text: str, roots: frozenset[str], expected: str) -> None:
    assert expected in refusal(text, roots)


def test_wrong_root_lists_the_allowed_ones() -> None:
    message = refusal("<domain/>", DOMAIN_CHILD_ROOTS)
    assert "blkiotune, cputune, iothreadids" in message


def test_well_formed_error_carries_lxml_reason_on_one_line() -> None:
    message = refusal("<disk>\n<source>\n</disk>")
    assert "mismatch" in message
    assert "line 3" in message


@pytest.mark.parametrize(
    ("roots", "members"),
    [
        (DOMAIN_CHILD_ROOTS, {"cputune", "numatune", "memtune", "memoryBacking", "resource"}),
        (DEVICE_ROOTS, {"disk", "hostdev", "interface", "serial", "watchdog", "crypto"}),
        (CPU_CHILD_ROOTS, {"model", "vendor", "topology", "feature", "cache", "numa"}),
        (FEATURE_ROOTS, {"acpi", "apic", "pae", "hyperv", "kvm", "smm", "msrs"}),
    ],
)
def test_root_sets(roots: frozenset[str], members: set[str]) -> None:
    assert members <= roots
    assert not {"domain", "devices", "os", "name"} & roots


def test_each_distinct_value_is_parsed_once(monkeypatch) -> None:
    """An appliance's kvm_device_0 is the same text for all its VMs: parsed and
    checked once, its elements shared; a bad value still names each holder."""
    from cairn.domainxml import fragments

    fragments._parsed_once.cache_clear()
    parses: list[str] = []
    real = fragments._parse_wrapped
    monkeypatch.setattr(
        fragments, "_parse_wrapped", lambda text, what: parses.append(text) or real(text, what)
    )
    value = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng> "
    first = parse_fragment(value, allowed_roots=DEVICE_ROOTS, what="kvm_device_0 of vm-1")
    again = parse_fragment(value, allowed_roots=DEVICE_ROOTS, what="kvm_device_0 of vm-2")
    assert again is first and parses == [value]
    assert [e.tag for e in first] == ["rng"]
    bad = "<rng model='virtio'>"
    for vm in ("vm-1", "vm-2"):
        with pytest.raises(FragmentError, match=f"^kvm_device_0 of {vm} is not well-formed"):
            parse_fragment(bad, allowed_roots=DEVICE_ROOTS, what=f"kvm_device_0 of {vm}")
