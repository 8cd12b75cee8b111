"""CPU elements: <cpu> (mode, match, model/vendor/topology children) and <cputune>.

`pin_all` is the kvm_cpu_pinning value "pin_all" of the Rocks KVM roll: virtual CPU i
on physical CPU i.  Parsing a user's cpu_mode value lives in `cpumode`.
"""

from __future__ import annotations

from lxml import etree

from cairn.domainxml._tree import adopt, sub
from cairn.domainxml.spec import Cpu, SpecError


def build_cpu(cpu: Cpu) -> etree._Element:
    """<cpu mode=... [match=...]> with copies of the spec's children."""
    element = etree.Element("cpu", mode=cpu.mode)
    if cpu.match is not None:
        element.set("match", cpu.match)
    adopt(element, cpu.children)
    return element


def pin_all(vcpus: int) -> etree._Element:
    """<cputune> pinning virtual CPU i to physical CPU i, for i in 0..vcpus-1."""
    if vcpus < 1:
        raise SpecError(f"pin_all needs at least 1 vcpu, got {vcpus}")
    cputune = etree.Element("cputune")
    for index in range(vcpus):
        sub(cputune, "vcpupin", vcpu=str(index), cpuset=str(index))
    return cputune
