"""The <features> element: the spec's feature elements, or acpi/apic/pae by default.

Which features a guest should have is the designer's choice; this module only
renders them.  Feature elements from users are parsed by `fragments` (FEATURE_ROOTS).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from cairn.domainxml._tree import adopt

DEFAULT_FEATURES = ("acpi", "apic", "pae")


def build_features(children: Iterable[etree._Element] | None) -> etree._Element | None:
    """<features> holding copies of `children`; None means the defaults, () means none."""
    features = etree.Element("features")
    if children is None:
        for tag in DEFAULT_FEATURES:
            etree.SubElement(features, tag)
    else:
        adopt(features, children)
    return features if len(features) else None
