"""Parsing XML that libvirt returns: one hardened lxml parser, nothing else."""

from __future__ import annotations

from lxml import etree

# libvirt's XML never needs entities or network access; refusing both keeps a
# hostile or broken container from making us fetch or expand anything.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode(), _PARSER)
