"""Checking one raw-XML attribute value against libvirt's schema on its own.

A value is placed, alone, into a minimal valid domain where the designer
would put it, and the result is validated. Used when a value is set (so a
value that cannot work is refused then) and to name the attribute behind a
schema error in a whole document.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from cairn.domainxml.domain import build_domain
from cairn.domainxml.schema import schema_available, validate
from cairn.domainxml.spec import Cpu, DomainSpec

_PROBE = DomainSpec(
    name="probe", uuid="00000000-0000-4000-8000-000000000000", memory_mib=64, vcpus=64
)


def check(
    what: str,
    *,
    devices: Sequence[etree._Element] = (),
    domain: Sequence[etree._Element] = (),
    cpu: Cpu | None = None,
    features: Sequence[etree._Element] | None = None,
) -> None:
    """Raise SchemaError, starting with `what`, if the elements are refused."""
    if not schema_available():
        return
    spec = DomainSpec(
        name=_PROBE.name,
        uuid=_PROBE.uuid,
        memory_mib=_PROBE.memory_mib,
        vcpus=_PROBE.vcpus,
        devices_extra=tuple(devices),
        domain_extra=tuple(domain),
        cpu=cpu,
        features=tuple(features) if features is not None else None,
        graphics_vnc=False,
        serial_console=False,
    )
    validate(build_domain(spec), what=what)
