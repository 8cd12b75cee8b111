"""cairn's domain metadata: built into the domain XML from the attributes, read back."""

from __future__ import annotations

import pytest
from lxml import etree

from cairn import metadata
from cairn.metadata import StartOrder


@pytest.mark.parametrize("start", [StartOrder(), StartOrder(3, 20), StartOrder(0, 0)])
def test_the_start_order_survives_the_trip_through_xml(start):
    text = etree.tostring(metadata.element(start), encoding="unicode")
    assert metadata.parse(text) == start


def test_libvirts_copy_without_the_namespace_reads_the_same():
    assert metadata.parse('<vm><start order="4" delay="9"/></vm>') == StartOrder(4, 9)


@pytest.mark.parametrize("text", ["<vm/>", "not xml", '<vm><start order="x" delay="-5"/></vm>'])
def test_what_cannot_be_read_is_the_default_so_a_container_still_shuts_down(text):
    assert metadata.parse(text) == StartOrder()


def test_vm_attributes_put_the_order_in_its_domain_xml(cluster):
    cluster.ok("add", "host", "vm", "vm-container-0-0", "name=ordered")
    cluster.ok("set", "host", "attr", "ordered", "kvm_start_order", "2")
    cluster.ok("set", "appliance", "attr", "hosted-vm", "kvm_start_delay", "15")

    xml = cluster.ok("report", "host", "vm", "config", "ordered")

    found = etree.fromstring(xml.encode()).find(
        f"metadata/{{{metadata.NS}}}vm/{{{metadata.NS}}}start"
    )
    assert found is not None
    assert (found.get("order"), found.get("delay")) == ("2", "15")


@pytest.mark.parametrize(
    ("name", "value"), [("kvm_start_order", "-1"), ("kvm_start_order", "first"),
                        ("kvm_start_delay", "3601")]
)  # fmt: skip
def test_an_order_or_delay_that_is_no_whole_number_in_range_is_refused(cluster, name, value):
    done = cluster("set", "attr", name, value)
    assert done.code == 1
    assert "is not a whole number from 0 to" in done.err
