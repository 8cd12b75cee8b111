"""cairn's element in a domain's <metadata>: the mark of a VM cairn manages,
and its place in the container's start order.

    <metadata>
      <cairn:vm xmlns:cairn="https://cairn.invalid/xmlns/vm/1">
        <cairn:start order="1" delay="30"/>
      </cairn:vm>
    </metadata>

`container boot` and `container shutdown` run without the database, so what
they need of the VM travels in its domain XML. The namespace and the parsing
live here, apart from both the XML builders and the libvirt code that reads
it back, so neither imports the other. Pure lxml; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

NS = "https://cairn.invalid/xmlns/vm/1"
PREFIX = "cairn"
ROOT = "vm"


@dataclass(frozen=True)
class StartOrder:
    """Lower `order` comes up first (None: after every numbered group); `delay`
    seconds pass after its group came up before the next group starts.
    Going down is the reverse order."""

    order: int | None = None
    delay: int = 0


def element(start: StartOrder) -> etree._Element:
    """The <cairn:vm> element for a domain's <metadata>."""
    root = etree.Element(f"{{{NS}}}{ROOT}", nsmap={PREFIX: NS})
    attrs = {"delay": str(start.delay)}
    if start.order is not None:
        attrs["order"] = str(start.order)
    etree.SubElement(root, f"{{{NS}}}start", attrs)
    return root


def _int(text: str | None, default: int | None) -> int | None:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def parse(text: str) -> StartOrder:
    """The start order in a <cairn:vm> element as libvirt returns it; defaults
    for what is missing or unreadable (a container must still shut down)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(text.encode(), parser)
    except etree.XMLSyntaxError:
        return StartOrder()
    # libvirt hands the element back without its namespace.
    start = root.find("start")
    if start is None:
        start = root.find(f"{{{NS}}}start")
    if start is None:
        return StartOrder()
    return StartOrder(_int(start.get("order"), None), max(0, _int(start.get("delay"), 0) or 0))
