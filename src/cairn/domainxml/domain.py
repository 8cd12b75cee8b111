"""The <domain> document: assembling the element families, and serializing.

Children come in the order `virsh dumpxml` shows them (name, uuid, metadata, memory, vcpu,
tuning, os, features, cpu, on_reboot, devices), so a built document diffs well against one
libvirt wrote back.  The schema check lives in `schema`, kept apart so building
stays cheap.
"""

from __future__ import annotations

import copy

from lxml import etree

from cairn import metadata
from cairn.domainxml._tree import adopt, sub
from cairn.domainxml.cpu import build_cpu
from cairn.domainxml.devices import build_devices
from cairn.domainxml.features import build_features
from cairn.domainxml.guestos import build_os
from cairn.domainxml.spec import DomainSpec


def build_domain(spec: DomainSpec) -> etree._Element:
    """The <domain> element for `spec`; the spec's elements are copied, never moved."""
    domain = etree.Element("domain", type=spec.domain_type)
    sub(domain, "name", spec.name)
    sub(domain, "uuid", spec.uuid)
    if spec.start is not None:
        sub(domain, "metadata").append(metadata.element(spec.start))
    # KiB with no unit, as Rocks wrote it and `virsh dumpxml` prints it: scripts read the number.
    sub(domain, "memory", str(spec.memory_mib * 1024))
    sub(domain, "vcpu", str(spec.vcpus))
    adopt(domain, spec.domain_extra)
    domain.append(build_os(spec))
    features = build_features(spec.features)
    if features is not None:
        domain.append(features)
    if spec.cpu is not None:
        domain.append(build_cpu(spec.cpu))
    if spec.on_reboot is not None:
        sub(domain, "on_reboot", spec.on_reboot)
    domain.append(build_devices(spec))
    return domain


def to_xml(element: etree._Element) -> str:
    """`element` as XML text indented by two spaces, without an XML declaration.

    Whitespace-only text between elements is replaced by the indentation (libvirt
    ignores it), on a copy: the caller's element is left as it was.
    """
    clone = copy.deepcopy(element)
    etree.indent(clone, space="  ")
    return str(etree.tostring(clone, encoding="unicode")) + "\n"
