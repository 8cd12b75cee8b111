"""The guest <os> element: <type> (arch, machine), a kernel booted directly or
the boot order, and <bios>.

Boot order is written as <boot dev=.../> elements inside <os>, in the spec's order;
per-device <boot order=.../> is never used, since libvirt refuses to mix the two.
Firmware (loader, nvram) does not live here yet: nothing in Cairn asks for it.
"""

from __future__ import annotations

from lxml import etree

from cairn.domainxml._tree import sub
from cairn.domainxml.spec import DomainSpec


def build_os(spec: DomainSpec) -> etree._Element:
    """<os><type arch machine>hvm</type><boot dev/>...<bios useserial/></os>."""
    os_element = etree.Element("os")
    sub(os_element, "type", "hvm", arch=spec.arch, machine=spec.machine)
    if spec.kernel is not None:
        sub(os_element, "kernel", spec.kernel.kernel)
        if spec.kernel.initrd is not None:
            sub(os_element, "initrd", spec.kernel.initrd)
        sub(os_element, "cmdline", spec.kernel.cmdline)
    for device in () if spec.kernel is not None else spec.boot:
        sub(os_element, "boot", dev=device)
    if spec.bios_useserial:
        sub(os_element, "bios", useserial="yes")
    return os_element
