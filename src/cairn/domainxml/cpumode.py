"""The cpu_mode attribute of the Rocks KVM roll, turned into a `Cpu` spec.

Values: a mode alone ("host-passthrough"), or MODE:INNER where INNER is raw XML for
inside <cpu> (<model>, <vendor>, <topology>, ...).  Rocks documented "exact:" as a mode,
but libvirt has none by that name: exact, minimum and strict are matches of the custom
mode, so "exact: <model>...</model>" becomes <cpu mode='custom' match='exact'>.
Which mode a host gets when the attribute is unset is the designer's choice.
"""

from __future__ import annotations

import copy

from lxml import etree

from cairn.domainxml.fragments import CPU_CHILD_ROOTS, FragmentError, parse_fragment
from cairn.domainxml.spec import CPU_MATCHES, CPU_MODES, Cpu

VALID_MODES = CPU_MODES | CPU_MATCHES
NO_CPU = frozenset({"", "none"})  # values that give no <cpu> element: QEMU's default model


def parse_cpu_mode(value: str, what: str) -> Cpu:
    """`value` of cpu_mode as a Cpu; `what` names the value in error messages."""
    head, colon, inner = value.partition(":")
    mode = head.strip().lower()
    if mode not in VALID_MODES:
        shown = head.strip()[:40]
        raise FragmentError(
            f"{what}: {shown!r} is not a CPU mode; use one of"
            f" {', '.join(sorted(VALID_MODES))}, optionally followed by"
            " ':' and XML for inside <cpu>, e.g. 'host-model' or 'exact: <model>core2duo</model>'"
        )
    children: tuple[etree._Element, ...] = ()
    if colon and inner.strip():
        children = parse_fragment(
            inner, allowed_roots=CPU_CHILD_ROOTS, what=f"{what} (the XML after ':')"
        )
    if any(c.tag == "topology" and None in _counts(c) for c in children):
        # Rocks' own example omits threads; libvirt 9 requires all three counts.
        # On copies: the parsed elements are shared (see parse_fragment).
        children = tuple(_with_counts(c) if c.tag == "topology" else c for c in children)
    if mode in CPU_MATCHES | {"custom"} and not any(c.tag == "model" for c in children):
        # libvirt takes it, and QEMU refuses it only when the VM starts.
        raise FragmentError(
            f"{what}: {mode} needs a CPU model, e.g. '{mode}: <model>core2duo</model>'"
            " (or use host-model or host-passthrough)"
        )
    if mode in CPU_MATCHES:
        return Cpu("custom", match=mode, children=children)
    return Cpu(mode, children=children)


_COUNTS = ("sockets", "cores", "threads")


def _counts(topology: etree._Element) -> list[str | None]:
    return [topology.get(count) for count in _COUNTS]


def _with_counts(topology: etree._Element) -> etree._Element:
    copied = copy.deepcopy(topology)
    for count in _COUNTS:
        if copied.get(count) is None:
            copied.set(count, "1")
    return copied
