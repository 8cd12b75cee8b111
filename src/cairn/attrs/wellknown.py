"""Checks for attribute names that cairn itself reads, run when a value is set.

A value that cannot work is refused when it is set, not when a VM starts.
XML-valued attributes (cpu_mode, kvm_cpu_pinning, kvm_device_N, HVM_Features)
are parsed the way the designer will parse them; they are checked again when
the domain XML is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cairn.attrs.scopes import INTRINSIC
from cairn.errors import CairnError
from cairn.values import boolean, mac

BOOLEANS = frozenset({"kvm", "kvm_autostart", "kvm_bios_useserial"})
# Integer attributes, declared as data: name -> (smallest, largest, meaning).
# The start order (Proxmox's startup order=,up=) goes into each VM's domain
# metadata, where `container boot` and `container shutdown` read it.
INTEGERS: dict[str, tuple[int, int, str]] = {
    "kvm_start_order": (
        0,
        999_999,
        "the VM's group in its container's start order: lower groups start first and"
        " stop last; VMs without it start after every group and stop first",
    ),
    "kvm_start_delay": (
        0,
        3_600,
        "seconds `container boot` waits after the VM's group has started before it"
        " starts the next group (the largest delay of a group counts)",
    ),
}
DEVICE_ATTR = re.compile(r"^kvm_device_(0|[1-9][0-9]*)$")  # the names the designer reads
_WORD = re.compile(r"^[A-Za-z0-9_.-]+$")
# Rocks' names for what cairn reads under another name: refused when set,
# saying which name to use (one stored name for one setting).
RENAMED = {"kvm_save_directory": "kvm_save_dir"}


# Where a raw-XML value goes in the domain: the fragment roots it may have, and
# the keyword of cairn.domainxml.probe.check that places it there.
_PLACES = {
    "DEVICE_ROOTS": "devices",
    "DOMAIN_CHILD_ROOTS": "domain",
    "FEATURE_ROOTS": "features",
}


def _xml(roots: str) -> Callable[[str, str], None]:
    def check(value: str, what: str) -> None:
        from cairn.domainxml import fragments, probe

        elements = fragments.parse_fragment(
            value, allowed_roots=getattr(fragments, roots), what=what
        )
        probe.check(what, **{_PLACES[roots]: elements})  # type: ignore[arg-type]

    return check


def _displays(value: str, what: str) -> None:
    from cairn.designer import check_displays
    from cairn.domainxml import fragments

    elements = fragments.parse_fragment(value, allowed_roots=fragments.DEVICE_ROOTS, what=what)
    check_displays(elements, what)


def _cpu_mode(value: str, what: str) -> None:
    from cairn.designer import NO_CPU
    from cairn.domainxml import probe
    from cairn.domainxml.cpumode import parse_cpu_mode

    if value.strip().lower() not in NO_CPU:
        probe.check(what, cpu=parse_cpu_mode(value, what))


def _pinning(value: str, what: str) -> None:
    if value.strip() == "pin_all":
        return
    if "<" not in value:  # not XML at all: most likely a misspelt pin_all
        raise CairnError(
            f"{what}: {value.strip()!r} is neither pin_all nor XML elements"
            " such as <cputune><vcpupin vcpu='0' cpuset='0'/></cputune>"
        )
    _xml("DOMAIN_CHILD_ROOTS")(value, what)


def _connection(value: str, what: str) -> None:
    from cairn.hypervisor.uri import uri_for

    try:
        uri_for(value, "host")
    except CairnError as exc:
        raise CairnError(f"{what}: {exc}") from None


def _mac(value: str, what: str) -> None:
    try:
        mac(value)
    except ValueError as exc:
        raise CairnError(f"{what}: {exc}") from None


def _path(value: str, what: str) -> None:
    from cairn.vms.disks import check_path

    check_path(value.rstrip("/") or "/", what)  # a directory may be written with a final /


def _command(value: str, what: str) -> None:
    from cairn.units import check_command

    check_command(value, what)


def _word(value: str, what: str) -> None:
    if not _WORD.fullmatch(value):
        raise CairnError(f"{what}: {value!r} is not a machine type like pc or q35")


def _prefix(value: str, what: str) -> None:
    import shlex

    try:
        shlex.split(value)
    except ValueError as exc:
        raise CairnError(
            f"{what}: {value!r} is not a command prefix ({exc}); give e.g. 'ssh {{host}}'"
        ) from None


def _label(value: str, what: str) -> None:
    from cairn.values import label

    try:
        label(value)
    except ValueError as exc:
        raise CairnError(f"{what}: {exc}") from None


CHECKS: dict[str, Callable[[str, str], None]] = {
    # How `sync host network` runs ip/bridge on a host ({host}: its name).
    "network_command": _prefix,
    # The boot action a host set to `install` gets from PXE (default: install).
    "installaction": _label,
    "cpu_mode": _cpu_mode,
    "kvm_cpu_pinning": _pinning,
    "HVM_Features": _xml("FEATURE_ROOTS"),
    "kvm_connection": _connection,
    "vm_mac_base_addr": _mac,
    "vm_mac_base_addr_mask": _mac,
    "kvm_disk_dir": _path,
    "kvm_save_dir": _path,
    "cairn_command": _command,
    "kvm_machine_type": _word,
}


def integer(name: str, value: str, what: str) -> int:
    """The value of an INTEGERS attribute, or CairnError naming its range."""
    low, high, _meaning = INTEGERS[name]
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise CairnError(f"{what}: {value!r} is not a whole number from {low} to {high}")
    return number


def check(name: str, value: str, where: str) -> None:
    """Raise CairnError if `value` cannot work for `name`; `where` names the owner."""
    what = f"attribute {name} for {where}"
    if name in INTRINSIC:
        raise CairnError(
            f"{name} is a fact of the host, not an attribute: use 'cairn set host {name}'"
            if name not in ("hostname", "os")
            else f"{name} is a fact of the host, not an attribute"
        )
    if name in RENAMED:
        raise CairnError(
            f"{name} is Rocks' name for what cairn reads as {RENAMED[name]}:"
            f" set {RENAMED[name]} instead (same value)"
        )
    if name in BOOLEANS:
        try:
            boolean(value)
        except ValueError as exc:
            raise CairnError(f"{what}: {exc}") from None
    elif name in INTEGERS:
        integer(name, value, what)
    elif DEVICE_ATTR.fullmatch(name):
        _xml("DEVICE_ROOTS")(value, what)
        _displays(value, what)
    elif name.startswith("kvm_device"):  # cairn would never read it
        raise CairnError(
            f"{name} is not a device attribute cairn reads: name it kvm_device_N, N a"
            " number without leading zeros (kvm_device_0, kvm_device_1, ...)"
        )
    elif name in CHECKS:
        CHECKS[name](value, what)
