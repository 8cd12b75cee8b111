"""What a VM container's hypervisor offers, read from its capabilities XML.

Only questions answered by `virConnect.getCapabilities()` belong here.
"""

from __future__ import annotations

import threading
import weakref

import libvirt
from lxml import etree

from cairn.hypervisor._xml import parse
from cairn.hypervisor.errors import HypervisorError, classify

# conn -> arch -> domain type; entries vanish with their connection object.
_cache: weakref.WeakKeyDictionary[libvirt.virConnect, dict[str, str]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def domain_type(conn: libvirt.virConnect, arch: str = "x86_64") -> str:
    """The `<domain type=...>` to use on this container: "kvm" if offered, else "qemu".

    "kvm" counts only where offered for hvm guests of `arch`. If neither kvm
    nor qemu is offered anywhere (libvirt's test driver offers only "test"),
    the first offered type is used. Cached per connection and arch:
    capabilities do not change while a connection is open.
    """
    with _cache_lock:
        cached = _cache.get(conn, {}).get(arch)
    if cached is not None:
        return cached
    try:
        caps = parse(conn.getCapabilities())
    except libvirt.libvirtError as exc:
        raise classify(exc, "cannot read hypervisor capabilities") from None
    result = choose_domain_type(caps, arch)
    with _cache_lock:
        _cache.setdefault(conn, {})[arch] = result
    return result


def choose_domain_type(caps: etree._Element, arch: str) -> str:
    """The decision of `domain_type` on an already parsed `<capabilities>` tree."""
    hvm: list[str] = []
    offered: list[str] = []
    for guest in caps.iterfind("guest"):
        os_type = guest.findtext("os_type")
        for arch_el in guest.iterfind("arch"):
            types = [t for d in arch_el.iterfind("domain") if (t := d.get("type"))]
            offered.extend(types)
            if os_type == "hvm" and arch_el.get("name") == arch:
                hvm.extend(types)
    if "kvm" in hvm:
        return "kvm"
    # qemu offered only for other arches still wins over a fallback: if it
    # cannot run `arch`, defining the domain fails with libvirt's clear error.
    if "qemu" in hvm or "qemu" in offered:
        return "qemu"
    if offered:
        return offered[0]
    raise HypervisorError("hypervisor capabilities offer no guest domain type")
