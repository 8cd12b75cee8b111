import pytest
from lxml import etree

from cairn.hypervisor.capabilities import choose_domain_type, domain_type
from cairn.hypervisor.errors import HypervisorError


def caps(*guests: tuple[str, str, list[str]]) -> etree._Element:
    root = etree.Element("capabilities")
    for os_type, arch, types in guests:
        guest = etree.SubElement(root, "guest")
        etree.SubElement(guest, "os_type").text = os_type
        arch_el = etree.SubElement(guest, "arch", name=arch)
        for t in types:
            etree.SubElement(arch_el, "domain", type=t)
    return root


def test_test_driver_offers_only_its_own_type(conn):
    assert domain_type(conn) == "test"


def test_result_is_cached_per_connection(conn):
    class Counting:
        def __init__(self, real):
            self.real, self.calls = real, 0

        def getCapabilities(self):
            self.calls += 1
            return self.real.getCapabilities()

    counting = Counting(conn)
    assert domain_type(counting) == domain_type(counting) == "test"
    assert counting.calls == 1


def test_kvm_preferred_for_x86_64_hvm():
    assert choose_domain_type(caps(("hvm", "x86_64", ["qemu", "kvm"])), "x86_64") == "kvm"


def test_qemu_without_kvm():
    assert choose_domain_type(caps(("hvm", "x86_64", ["qemu"])), "x86_64") == "qemu"
    # kvm for another arch or os type does not count
    tree = caps(("hvm", "i686", ["qemu", "kvm"]), ("xen", "x86_64", ["kvm"]))
    assert choose_domain_type(tree, "x86_64") == "qemu"


def test_first_offered_type_as_fallback_and_none_is_an_error():
    assert choose_domain_type(caps(("xen", "i686", ["xen", "test"])), "x86_64") == "xen"
    with pytest.raises(HypervisorError):
        choose_domain_type(caps(), "x86_64")
