"""Small lxml helpers shared by the builders: attaching copies of caller-given elements.

Specs are frozen and may be built many times, so an element held by a spec is never
moved into a document (lxml would take it away from the spec); a copy is attached.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from lxml import etree


def adopt(parent: etree._Element, elements: Iterable[etree._Element]) -> None:
    """Append a detached copy of each element to `parent`, in order."""
    for element in elements:
        clone = copy.deepcopy(element)
        clone.tail = None
        parent.append(clone)


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """etree.SubElement with optional text; attributes given as keywords."""
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element
