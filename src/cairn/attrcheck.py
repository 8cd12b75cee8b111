"""Checking an attribute value when it is set, from its declaration in the registry.

`cairn.attrs.wellknown` declares what each attribute is; this module brings in
the parsers that know each type (lxml and libvirt's schema for XML, the
kvm_connection template rules, path and command rules), so that a value that
cannot work is refused when it is set, not when a VM starts. XML values are
parsed and placed the way the designer will, and checked again when the
domain XML is built. `put` is how commands store an attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.attrs import wellknown as wk
from cairn.errors import CairnError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.attrs.store import Owner


def check(name: str, value: str, where: str) -> None:
    """Raise CairnError if `value` cannot work for `name`; `where` names the owner."""
    knob = wk.check_name(name)
    if knob is None:
        return
    what = f"attribute {name} for {where}"
    wk.check_plain(knob, value, what)
    if knob.kind == wk.XML:
        _xml(knob, value, what)
    elif knob.kind == wk.CPU_MODE:
        _cpu_mode(value, what)
    elif knob.kind == wk.URI_TEMPLATE:
        from cairn.hypervisor.uri import uri_for

        try:
            uri_for(value, "host")
        except CairnError as exc:
            raise CairnError(f"{what}: {exc}") from None
    elif knob.kind == wk.PATH:
        from cairn.vms.disks import check_path
        from cairn.vms.reach import reach

        path = check_path(value.rstrip("/") or "/", what)  # a directory may end in /
        reach().file(path, what)
    elif knob.kind == wk.COMMAND:
        from cairn.units import check_command

        check_command(value, what)
    elif knob.kind == wk.PREFIX:
        from cairn.container.netcommand import check as check_prefix

        check_prefix(value, what)
    elif knob.kind == wk.LABEL:
        from cairn.values import action_name

        try:
            action_name(value)
        except ValueError as exc:
            raise CairnError(f"{what}: {exc}") from None
    elif knob.kind == wk.MAC:
        _mac(name, value, what)


def put(session: Session, owner: Owner, name: str, value: str, *, replace: bool) -> None:
    """Check `value` for `name`, then store it (see cairn.attrs.store.put)."""
    from cairn.attrs import store

    check(name, value, owner.describe())
    store.put(session, owner, name, value, replace=replace)
    _after(session, owner, name)


def remove(session: Session, owner: Owner, name: str) -> None:
    """Remove attribute `name` of `owner` (what then applies is checked as a new value is)."""
    from cairn.attrs import store

    store.remove(session, owner, name)
    _after(session, owner, name)


def _after(session: Session, owner: Owner, name: str) -> None:
    """Checks of what an attribute now resolves to for the hosts it covers.

    After the change, so that the VMs it applies to are judged as resolved; a
    refusal rolls the command's transaction back with it."""
    if name == "kvm_ha":
        from cairn.vms.shared import check_owner

        check_owner(session, owner)


def _mac(name: str, value: str, what: str) -> None:
    from cairn.values import mac
    from cairn.vms import macs

    try:
        given = mac(value)
    except ValueError as exc:
        raise CairnError(f"{what}: {exc}") from None
    if name == "vm_mac_base_addr":
        macs.check_base(given, what)
    elif name == "vm_mac_base_addr_mask":
        macs.check_mask(given, what)


def _xml(knob: wk.Knob, value: str, what: str) -> None:
    from cairn.domainxml import fragments, probe

    if value.strip() in knob.words:
        return
    if "<" not in value:  # not XML at all: most likely a misspelt word
        words = " nor ".join(f"{w}" for w in knob.words)
        raise CairnError(
            f"{what}: {value.strip()[:40]!r} is {'neither ' + words + ' nor' if words else 'not'}"
            f" XML elements for <{knob.place}>"
            + (
                " such as <cputune><vcpupin vcpu='0' cpuset='0'/></cputune>"
                if knob.place == "domain"
                else ""
            )
        )
    elements = fragments.parse_fragment(value, allowed_roots=fragments.ROOTS[knob.place], what=what)
    if knob.place == "devices":
        from cairn.designer import check_displays
        from cairn.vms.reach import reach

        check_displays(elements, what)  # no display on a public address
        reach().elements(elements, what)  # no file, device or program out of reach
    probe.check(what, **{knob.place: elements})  # type: ignore[arg-type]


def _cpu_mode(value: str, what: str) -> None:
    from cairn.domainxml import probe
    from cairn.domainxml.cpumode import NO_CPU, parse_cpu_mode

    if value.strip().lower() not in NO_CPU:
        probe.check(what, cpu=parse_cpu_mode(value, what))
