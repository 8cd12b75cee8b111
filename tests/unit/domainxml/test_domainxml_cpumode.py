"""parse_cpu_mode: the seed's cpu_mode values, mapped onto what libvirt understands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from domainxml_seed import SEED_CPU_MODE
from lxml import etree

from cairn.domainxml import schema
from cairn.domainxml.cpumode import parse_cpu_mode
from cairn.domainxml.domain import build_domain
from cairn.domainxml.fragments import FragmentError
from cairn.domainxml.spec import Cpu, DomainSpec

WHAT = "attribute cpu_mode of host vm-0-0-0 (global scope)"


@pytest.mark.parametrize("mode", ["host-model", "host-passthrough", "maximum"])
def test_mode_alone(mode: str) -> None:
    assert parse_cpu_mode(f"  {mode} ", WHAT) == Cpu(mode)


@pytest.mark.parametrize("value", ["custom", "exact", "minimum:", "strict: <vendor>Intel</vendor>"])
def test_a_mode_that_needs_a_model_is_refused_without_one(value: str) -> None:
    # libvirt takes <cpu mode='custom'/> with no <model>; QEMU refuses it at start.
    with pytest.raises(FragmentError, match="needs a CPU model"):
        parse_cpu_mode(value, WHAT)


def test_seed_exact_becomes_custom_with_match_exact() -> None:
    cpu = parse_cpu_mode(SEED_CPU_MODE, WHAT)
    assert (cpu.mode, cpu.match) == ("custom", "exact")
    assert [child.tag for child in cpu.children] == ["model", "vendor", "topology"]
    assert cpu.children[0].get("fallback") == "allow"
    assert cpu.children[0].text == "core2duo"


def test_seed_exact_as_written_gets_threads_and_validates(minimal: DomainSpec) -> None:
    # libvirt 9 requires threads= on <topology>; the 2013 example predates that,
    # so a missing count is completed with 1 and the seed's value works as printed.
    spec = replace(minimal, cpu=parse_cpu_mode(SEED_CPU_MODE, WHAT))
    schema.validate(build_domain(spec))
    topology = spec.cpu.children[2] if spec.cpu else None
    assert topology is not None
    assert topology.attrib == {"sockets": "1", "cores": "2", "threads": "1"}


def test_seed_exact_with_threads_builds(
    minimal: DomainSpec, build: Callable[[DomainSpec], etree._Element]
) -> None:
    value = SEED_CPU_MODE.replace("cores='2'", "cores='2' threads='1'")
    spec = replace(minimal, cpu=parse_cpu_mode(value, WHAT))
    cpu = build(spec).find("cpu")
    assert cpu is not None
    assert cpu.attrib == {"mode": "custom", "match": "exact"}
    assert [child.tag for child in cpu] == ["model", "vendor", "topology"]


@pytest.mark.parametrize("match", ["exact", "minimum", "strict"])
def test_matches_map_to_custom(match: str) -> None:
    cpu = parse_cpu_mode(f"{match}:<model>Haswell</model>", WHAT)
    assert (cpu.mode, cpu.match, len(cpu.children)) == ("custom", match, 1)


@pytest.mark.parametrize("mode", ["host-model", "host-passthrough"])
def test_modes_keep_their_inner_xml(mode: str) -> None:
    cpu = parse_cpu_mode(f" {mode} : <feature policy='disable' name='vmx'/>", WHAT)
    assert (cpu.mode, cpu.match) == (mode, None)
    assert [child.tag for child in cpu.children] == ["feature"]


def test_empty_inner_means_no_children() -> None:
    assert parse_cpu_mode("host-model:  ", WHAT) == Cpu("host-model")


@pytest.mark.parametrize("value", ["bogus", "", "<model>x</model>", "exactly:<model/>"])
def test_unknown_mode_lists_the_valid_ones(value: str) -> None:
    with pytest.raises(FragmentError) as caught:
        parse_cpu_mode(value, WHAT)
    message = str(caught.value)
    assert message.startswith(WHAT)
    assert "host-model, host-passthrough" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "value", ["host-model:<disk/>", "exact:</cpu><devices>", "custom:<model>x"]
)
def test_bad_inner_xml_is_refused(value: str) -> None:
    with pytest.raises(FragmentError, match="cpu_mode"):
        parse_cpu_mode(value, WHAT)
