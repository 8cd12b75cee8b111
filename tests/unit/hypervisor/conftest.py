"""Fixtures for hypervisor tests: libvirt's in-process test driver, never a daemon."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import libvirt
import pytest
from lxml import etree

import cairn.hypervisor.errors  # noqa: F401  (silences libvirt's stderr handler)

TEST_URI = "test:///default"


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    """A fresh in-memory host with one running domain, "test", and "default-pool".

    All open connections to test:///default in a process share one host,
    which lives until the last reference to it goes, and domain objects held
    by exception tracebacks (reference cycles) are such references. So: collect
    garbage before closing, and check that the host really is fresh.
    """
    gc.collect()
    c = libvirt.open(TEST_URI)
    domains = sorted(d.name() for d in c.listAllDomains(0))
    pools = sorted(p.name() for p in c.listAllStoragePools(0))
    if (domains, pools) != (["test"], ["default-pool"]):
        c.close()
        pytest.fail(f"test:///default is not fresh (leaked from another test): {domains} {pools}")
    yield c
    gc.collect()
    c.close()


def domain_xml(name: str, *extra: etree._Element) -> str:
    dom = etree.Element("domain", type="test")
    etree.SubElement(dom, "name").text = name
    etree.SubElement(dom, "memory", unit="MiB").text = "64"
    etree.SubElement(dom, "vcpu").text = "2"
    os_el = etree.SubElement(dom, "os")
    etree.SubElement(os_el, "type", arch="x86_64").text = "hvm"
    dom.extend(extra)
    return etree.tostring(dom, encoding="unicode")


@pytest.fixture
def make_xml() -> Callable[..., str]:
    return domain_xml
