"""Shared helpers for the domainxml tests: building with schema validation, goldens.

Every document a test builds goes through `build`, which validates it against
libvirt's RelaxNG schema; tests of refusals call `schema.validate` themselves.
The helpers are session-scoped plain functions so hypothesis tests can use them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from cairn.domainxml import schema
from cairn.domainxml.domain import build_domain, to_xml
from cairn.domainxml.spec import DomainSpec

GOLDEN = Path(__file__).parent / "golden"
UUID = "6f1c2b9e-3d4a-4c8b-9e7f-0a1b2c3d4e5f"


def canonical(text: str) -> str:
    """`text` as canonical XML with insignificant whitespace between elements removed."""
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(text.encode(), parser), method="c14n2")


@pytest.fixture(scope="session", autouse=True)
def _schema_present() -> None:
    if not schema.schema_available():
        pytest.fail(f"{schema.SCHEMA_PATH} is missing; install {schema.SCHEMA_PACKAGE}")


@pytest.fixture(scope="session")
def build() -> Callable[[DomainSpec], etree._Element]:
    """build_domain followed by schema validation."""

    def build_valid(spec: DomainSpec) -> etree._Element:
        domain = build_domain(spec)
        schema.validate(domain, what=f"domain XML of {spec.name}")
        return domain

    return build_valid


@pytest.fixture(scope="session")
def golden() -> Callable[[str, etree._Element], None]:
    """Compare a built domain with golden/<name>.xml semantically.

    CAIRN_REGEN_GOLDEN=1 rewrites the file instead; review the diff before committing.
    """

    def compare(name: str, domain: etree._Element) -> None:
        path = GOLDEN / f"{name}.xml"
        text = to_xml(domain)
        if os.environ.get("CAIRN_REGEN_GOLDEN") == "1":
            path.write_text(text)
        expected = path.read_text()
        schema.validate(etree.fromstring(expected.encode()), what=str(path))
        assert canonical(text) == canonical(expected), f"differs from {path}:\n{text}"

    return compare


@pytest.fixture
def minimal() -> DomainSpec:
    return DomainSpec(name="vm-0-0-0", uuid=UUID, memory_mib=1024, vcpus=1)
