"""The registry: every attribute cairn reads, declared once, as data.

Each `Knob` says the name (or a pattern such as kvm_device_N), the type of its
value, the default when it is unset, where it is meant to be set, and one line
of help. From these declarations come: the check when a value is set
(`cairn.attrcheck`), typed reads (`flag`, `text`), the listing of
`cairn list attr help`, and the coverage test that every name the code reads
is declared here. A new attribute is one more `Knob` below, nothing else.

What belongs here: the declarations, name matching, and the checks that need
no other package (booleans, integers, words). What does not: parsing XML or
URIs (cairn.attrcheck brings those in), policy (cairn.designer). This module
imports nothing above cairn.values, so every layer may read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cairn.attrs.escape import unescape
from cairn.attrs.scopes import INTRINSIC, Resolved
from cairn.errors import CairnError
from cairn.values import boolean

# The types of value; XML places are where cairn.designer puts the elements
# (their allowed root tags: cairn.domainxml.fragments.ROOTS[place]).
BOOLEAN = "boolean"
INTEGER = "integer"
PATH = "path"
URI_TEMPLATE = "URI template"
WORDS = "word list"
XML = "XML fragment"
MAC = "MAC address"
COMMAND = "command"
CPU_MODE = "CPU mode"  # a word of `words`, optionally ':' and XML for inside <cpu>
PREFIX = "command prefix"  # words put before a command, {host} the host's name
LABEL = "name"  # a boot action's name: DNS labels, one space between (values.action_name)
INTRINSIC_KIND = "fact of the host"
STATUS = "status written by cairn"  # refused when set by hand
KINDS = (
    BOOLEAN,
    INTEGER,
    PATH,
    URI_TEMPLATE,
    WORDS,
    XML,
    MAC,
    COMMAND,
    CPU_MODE,
    PREFIX,
    LABEL,
    INTRINSIC_KIND,
    STATUS,
)

# Machine types of QEMU's x86 targets (cairn builds x86 guests); versioned ones
# such as pc-q35-7.2 or pc-i440fx-7.2 too.
# VERSION in a word stands for a version such as 7.2.
MACHINE_TYPES = ("pc", "q35", "isapc", "microvm", "pc-i440fx-VERSION", "pc-q35-VERSION")
_VERSION = "[0-9][A-Za-z0-9.]*"


@dataclass(frozen=True)
class Knob:
    """One attribute cairn reads. `name` may hold one N, a number (kvm_device_N)."""

    name: str
    kind: str
    help: str
    default: str | None = None  # None: unset means "not used"; see help
    scope: str = "any scope"  # where an administrator usually sets it
    words: tuple[str, ...] = ()  # WORDS/CPU_MODE: the words allowed; XML: words allowed too
    place: str = ""  # XML and CPU_MODE: where the elements go in the domain

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if "_N" not in self.name:
            return None
        head, _, tail = self.name.partition("_N")
        return re.compile(rf"^{re.escape(head)}_(0|[1-9][0-9]*){re.escape(tail)}$")

    def matches(self, name: str) -> bool:
        pattern = self.pattern
        return pattern.fullmatch(name) is not None if pattern else name == self.name


KNOBS: tuple[Knob, ...] = (
    # Facts of a host, shown with its attributes, set with their own commands.
    *(
        Knob(n, INTRINSIC_KIND, f"the host's {n}, shown as an attribute", scope="its own command")
        for n in INTRINSIC
    ),
    # Containers: which hosts run VMs and how cairn reaches them.
    Knob(
        "kvm",
        BOOLEAN,
        "whether hosts run VMs (a VM container); vm-container has it true",
        default="false",
        scope="appliance or host",
    ),
    Knob(
        "kvm_connection",
        URI_TEMPLATE,
        "the libvirt URI of a container, {host} its name; this machine: qemu:///system",
        default="qemu+ssh://{host}/system",
        scope="global or container",
    ),
    Knob(
        "kvm_disk_dir",
        PATH,
        "the directory of a container where new VMs' disk images go (within the config"
        " file's vm_storage_dirs)",
        default="/var/lib/libvirt/images",
        scope="global or container",
    ),
    Knob(
        "kvm_boot_dir",
        PATH,
        "the directory of a container that holds boot actions' kernels and ramdisks,"
        " for a VM that boots one itself (installaction 'install vm frontend')",
        default="/tftpboot",
        scope="global or the VM",
    ),
    Knob(
        "kvm_save_dir",
        PATH,
        "the directory of a container where saved VM images go (within vm_storage_dirs)",
        default="/var/lib/libvirt/qemu/save",
        scope="global or container",
    ),
    Knob(
        "cairn_command",
        COMMAND,
        "the absolute path of cairn on containers, run by their boot and shutdown units",
        default="the cairn that is running",
        scope="global or container",
    ),
    # VMs: the domain each one gets.
    Knob(
        "kvm_autostart",
        BOOLEAN,
        "whether a VM starts again when its container boots",
        default="false",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_bios_useserial",
        BOOLEAN,
        "whether the VM's BIOS writes to the first serial port",
        default="false",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_machine_type",
        WORDS,
        "the QEMU machine type of VMs",
        default="pc",
        scope="VM, its appliance or global",
        words=MACHINE_TYPES,
    ),
    Knob(
        "cpu_mode",
        CPU_MODE,
        "the VM's <cpu>: a mode, optionally ':' and XML for inside <cpu>",
        default="none (a new database: host-passthrough)",
        scope="VM, its appliance or global",
        words=(
            "none",
            "host-passthrough",
            "host-model",
            "custom",
            "maximum",
            "exact",
            "minimum",
            "strict",
        ),
        place="cpu",
    ),
    Knob(
        "kvm_cpu_pinning",
        XML,
        "pin_all (vCPU i on CPU i) or <cputune>... elements for the domain",
        scope="VM, its appliance or global",
        words=("pin_all",),
        place="domain",
    ),
    Knob(
        "HVM_Features",
        XML,
        "elements for the VM's <features> (<acpi/><apic/>...)",
        default="<acpi/><apic/><pae/>",
        scope="VM, its appliance or global",
        place="features",
    ),
    Knob(
        "kvm_device_N",
        XML,
        "elements added to the VM's <devices>, in N order (N: 0, 1, 2 ...); files only"
        " within vm_storage_dirs, host devices only from vm_host_devices",
        scope="VM, its appliance or global",
        place="devices",
    ),
    # The start order (Proxmox's startup order=,up=), written into each VM's
    # domain metadata, where `container boot` and `container shutdown` read it.
    Knob(
        "kvm_start_order",
        INTEGER,
        "the VM's group in its container's start order (0-999999): lower groups start"
        " first and stop last; VMs without it start after every group and stop first",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_start_delay",
        INTEGER,
        "seconds (0-3600) `container boot` waits after the VM's group has started"
        " before the next group (the largest delay of a group counts)",
        default="0",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_memory_mb",
        INTEGER,
        "MB of memory a container offers its VMs (placement by the allocate plugin)",
        default="2048 MB per CPU of the container",
        scope="container or its appliance",
    ),
    Knob(
        "kvm_maintenance",
        BOOLEAN,
        "whether the container is out of service (set by `container evacuate`, cleared"
        " by `container return`): no start, move or allocation puts a VM on it",
        default="false",
        scope="container",
    ),
    # Live migration (`move host vm`): what the VM's traffic loses at the switch.
    Knob(
        "kvm_migrate_downtime",
        INTEGER,
        "milliseconds (1-60000) a VM that `move host vm` migrates live may stay paused"
        " while its last memory is copied (QEMU's own limit is 300); lower loses less"
        " of its traffic, but a VM that writes memory fast needs kvm_migrate_auto_converge",
        default="50",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_migrate_auto_converge",
        BOOLEAN,
        "whether a live migration that does not get within kvm_migrate_downtime slows"
        " the VM's CPUs down until it does (libvirt's auto-converge); without it such a"
        " migration goes on until the VM writes less",
        default="true",
        scope="VM, its appliance or global",
    ),
    # High availability: restart elsewhere after a fenced failure (cairn.lifecycle.failover).
    Knob(
        "kvm_ha",
        BOOLEAN,
        "whether the watcher restarts the VM on another container when its container is"
        " dead and a fence plugin has confirmed it off; every disk (and the CDROM) must"
        " be in the config file's vm_shared_dirs",
        default="false",
        scope="VM, its appliance or global",
    ),
    Knob(
        "kvm_ha_dead_after",
        INTEGER,
        "seconds (1-86400) a container's libvirt must stay unreachable before the watcher"
        " counts it dead and fences it (its kvm_ha VMs are then restarted elsewhere)",
        default="30",
        scope="global or container",
    ),
    Knob(
        "kvm_ha_status",
        STATUS,
        "what the watcher did about a dead container (fenced, restarted, or why not);"
        " written by the watcher, removed when the container answers again",
        scope="container (written by cairn)",
    ),
    # Networks and network boot.
    Knob(
        "network_command",
        PREFIX,
        "how `sync host network` runs ip/bridge on a host, {host} its name: 'ssh {host}',"
        " 'ssh -o BatchMode=yes {host}', 'ip netns exec NAME', or one the config file's"
        " network_commands allows",
        default="nothing on this machine, 'ssh {host}' on others",
        scope="host or appliance",
    ),
    Knob(
        "installaction",
        LABEL,
        "the boot action a host set to install gets from PXE",
        default="install",
        scope="host, its appliance or global",
    ),
    Knob(
        "vm_mac_base_addr",
        MAC,
        "the first MAC address given to new VMs' interfaces",
        default="52:54:00:00:00:00",
        scope="global",
    ),
    Knob(
        "vm_mac_base_addr_mask",
        MAC,
        "which bits of vm_mac_base_addr new MAC addresses keep",
        default="ff:ff:ff:00:00:00",
        scope="global",
    ),
)

# Rocks' names for what cairn reads under another name: refused when set,
# saying which name to use (one stored name for one setting).
RENAMED = {"kvm_save_directory": "kvm_save_dir"}

_BY_NAME = {k.name: k for k in KNOBS if k.pattern is None}
_BY_FOLDED = {k.name.lower(): k for k in KNOBS if k.pattern is None}
_PATTERNS = tuple(k for k in KNOBS if k.pattern is not None)
DEVICE_ATTR = re.compile(r"^kvm_device_(0|[1-9][0-9]*)$")  # the names the designer reads

# The range of each INTEGER attribute: name -> (smallest, largest).
INTEGERS: dict[str, tuple[int, int]] = {
    "kvm_start_order": (0, 999_999),
    "kvm_start_delay": (0, 3_600),
    "kvm_memory_mb": (1, 2**40),
    "kvm_migrate_downtime": (1, 60_000),
    "kvm_ha_dead_after": (1, 86_400),
}


def integer(name: str, value: str, what: str) -> int:
    """The value of an INTEGER attribute, or CairnError naming its range."""
    low, high = INTEGERS[name]
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise CairnError(f"{what}: {value!r} is not a whole number from {low} to {high}")
    return number


def lookup(name: str) -> Knob | None:
    """The declaration of `name`, spelt exactly as declared; None if cairn does not read it."""
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    return next((k for k in _PATTERNS if k.matches(name)), None)


def check_name(name: str) -> Knob | None:
    """Refuse a name cairn would not read as meant; return its declaration, if any.

    Names are stored as typed, and compared case-sensitively by cairn on every
    database; MariaDB compares them without case, so a name that differs from a
    declared one only in case (CPU_MODE) would pass unchecked on one database
    and overwrite cpu_mode on another: it is refused.
    """
    knob = lookup(name)
    if knob is not None:
        if knob.kind == INTRINSIC_KIND:
            raise CairnError(
                f"{name} is a fact of the host, not an attribute: use 'cairn set host {name}'"
                if name not in ("hostname", "os")
                else f"{name} is a fact of the host, not an attribute"
            )
        return knob
    if name in RENAMED:
        raise CairnError(
            f"{name} is Rocks' name for what cairn reads as {RENAMED[name]}:"
            f" set {RENAMED[name]} instead (same value)"
        )
    folded = name.lower()
    near = _BY_FOLDED.get(folded) or next(
        (k for k in _PATTERNS if k.pattern and k.pattern.fullmatch(folded)), None
    )
    if near is not None:
        spelt = near.name if near.pattern is None else folded
        raise CairnError(
            f"attribute {name}: cairn reads {spelt}; write it exactly so (attribute"
            " names are case-sensitive)"
        )
    if folded.startswith("kvm_device"):  # cairn would never read it
        raise CairnError(
            f"{name} is not a device attribute cairn reads: name it kvm_device_N, N a"
            " number without leading zeros (kvm_device_0, kvm_device_1, ...)"
        )
    return None


def check_plain(knob: Knob, value: str, what: str) -> None:
    """The checks of the types that need nothing but this module."""
    if knob.kind == BOOLEAN:
        try:
            boolean(value)
        except ValueError as exc:
            raise CairnError(f"{what}: {exc}") from None
    elif knob.kind == INTEGER:
        integer(knob.name, value, what)
    elif knob.kind == WORDS:
        words = "|".join(re.escape(w).replace("VERSION", _VERSION) for w in knob.words)
        if not re.fullmatch(words, value.strip()):
            version = " (VERSION: a version such as 7.2)" if _VERSION in words else ""
            raise CairnError(
                f"{what}: {value.strip()[:40]!r} is not one of {', '.join(knob.words)}{version}"
            )


_SCOPE_WORD = {"O": "os ", "A": "appliance ", "H": "host ", "I": "host "}


def what(name: str, host: str, found: Resolved | None, owner: str = "host") -> str:
    """How errors name a resolved attribute: its host and the scope it came from."""
    scopes = {"G": "global", "O": "os", "A": "appliance", "H": "host", "I": "intrinsic"}
    scope = scopes.get(found.source, "?") if found else "default"
    return f"attribute {name} of {owner} {host} ({scope} scope)"


def text(attrs: Mapping[str, Resolved], name: str) -> str | None:
    """The value (unescaped) of a resolved attribute, None if unset."""
    assert lookup(name) is not None, f"{name} is read but not declared in wellknown.KNOBS"
    found = attrs.get(name)
    return unescape(found.value) if found else None


def flag(attrs: Mapping[str, Resolved], name: str, host: str, *, owner: str = "host") -> bool:
    """A boolean attribute of `host`: its default when unset; a value that is not
    a boolean (stored before cairn checked values) is an error naming the
    attribute, the host and the scope to fix, wherever it is read."""
    knob = lookup(name)
    assert knob is not None and knob.kind == BOOLEAN, f"{name} is not a declared boolean"
    found = attrs.get(name)
    value = unescape(found.value) if found else knob.default or "false"
    try:
        return boolean(value)
    except ValueError as exc:
        raise CairnError(
            f"{what(name, host, found, owner)}: {exc}; fix it with 'cairn set"
            f" {'' if found is None or found.source == 'G' else _SCOPE_WORD[found.source]}attr'"
        ) from None
