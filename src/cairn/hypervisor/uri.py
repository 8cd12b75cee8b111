"""Libvirt URIs of containers from the kvm_connection template. No libvirt import,
so attribute checks can use it when a template is set."""

from __future__ import annotations

import re
import string

from cairn.errors import CairnError

_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# driver[+transport]:// as libvirt reads it: qemu:///system, qemu+ssh://h/system
_URI = re.compile(r"[a-z][a-z0-9]*(\+[a-z0-9]+)?://", re.IGNORECASE)


def uri_for(template: str, host: str) -> str:
    """`template` with `{host}` replaced by `host`, e.g. qemu+ssh://{host}/system.

    `host` must be a DNS name or IPv4 address (labels of letters, digits and
    '-', joined by '.'), so it cannot add a path, query, user or port to the
    URI. The only field allowed is a bare `{host}`; `{{`/`}}` are literal braces.
    A template without `{host}` (e.g. test:///default) is the same for every host.
    """
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise CairnError(f"invalid container host name {host!r}: use letters, digits, '-', '.'")
    if not _URI.match(template):
        raise CairnError(
            f"invalid kvm_connection template {template!r}: not a libvirt URI such as"
            " qemu+ssh://{host}/system, qemu+tls://{host}/system or qemu:///system"
        )
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise CairnError(f"invalid kvm_connection template {template!r}: {exc}") from None
    for literal, field, spec, conversion in parsed:
        parts.append(literal)
        if field is None:
            continue
        if field != "host" or spec or conversion:
            raise CairnError(
                f"invalid kvm_connection template {template!r}: only {{host}} may be substituted"
            )
        parts.append(host)
    return "".join(parts)
