"""What the host interface commands share: the fields an interface has, as
parameters (`add|set host interface HOST IFACE field=...`) and as Rocks'
one-field commands (`set host interface FIELD HOST IFACE VALUE`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Command, Example, Param
from cairn.commands._words import HOST
from cairn.values import Converter, iface_name, ip, mac

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.context import Context
    from cairn.db.models import Interface

IFACE = Arg("iface", "the interface name (eth0)", convert=iface_name)


class _Clear:
    """`none` given for a field: clear it (None means not given)."""

    def __repr__(self) -> str:
        return "none"


CLEAR = _Clear()


def _or_none(convert: Converter) -> Converter:
    def read(word: str) -> object:
        return CLEAR if word.strip().lower() in ("none", "null") else convert(word)

    read.__name__ = getattr(convert, "__name__", "value")
    return read


_MODULE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _module(word: str) -> str:
    if not _MODULE.fullmatch(word):
        raise ValueError(f"{word!r} is not a kernel module name (letters, digits, _ and -)")
    return word


# Each field: (help, converter, metavar, an example value).
FIELDS: dict[str, tuple[str, Converter, str, str]] = {
    "mac": ("the MAC address; none clears it", _or_none(mac), "MAC", "52:54:00:00:00:10"),
    "ip": ("the IP address; none clears it", _or_none(ip), "IP", "10.1.255.250"),
    "subnet": (
        "the network it is on (see: cairn list network); none for none",
        _or_none(values.label),
        "NETWORK",
        "private",
    ),
    "vlan": ("the VLAN id; none for none", _or_none(values.integer(1, 4094)), "ID", "3"),
    "name": (
        "the host's name on this interface (Rocks' name column); none clears it",
        _or_none(values.label),
        "NAME",
        "compute-0-0-ib",
    ),
    "module": ("the kernel driver module; none clears it", _or_none(_module), "MODULE", "e1000"),
    "disablekvm": (
        "yes: kept in the database, left out of the VM's domain",
        values.boolean,
        "BOOL",
        "yes",
    ),
}

IFACE_PARAMS = tuple(Param(f, h, convert=c, metavar=m) for f, (h, c, m, _) in FIELDS.items())


def apply_fields(session: Session, iface: Interface, a: dict[str, Any]) -> None:
    """Set the fields `a` gives (None: not given; CLEAR: none) on `iface`."""
    from cairn.inventory import networks

    given = {f: None if a[f] is CLEAR else a[f] for f in FIELDS if a.get(f) is not None}
    networks.set_fields(session, iface, given)


def set_fields(ctx: Context, a: dict[str, Any]) -> None:
    """Set the given fields of interface a["iface"] of the hosts a["host"] names."""
    from cairn.inventory import lookup, networks

    for host in lookup.hosts(ctx.session, [a["host"]], all_if_empty=False):
        apply_fields(ctx.session, networks.find_interface(host, a["iface"]), a)


def field_command(field: str) -> type[Command]:
    """The command `set host interface FIELD HOST IFACE VALUE` (Rocks' spelling)."""
    says, convert, metavar, example = FIELDS[field]

    class FieldCommand(Command):
        __doc__ = f"""Sets the {field} of a host interface, as Rocks spells it.

        The same as 'cairn set host interface HOST IFACE {field}={metavar}'.
        """
        args = (HOST, IFACE, Arg(field, says, convert=convert, metavar=metavar))
        writes = True
        in_batch = True
        replayable = True
        examples = (
            Example(
                f"cairn set host interface {field} compute-0-0 eth0 {example}",
                f"Sets the {field} of eth0 on compute-0-0.",
            ),
        )
        related = ("set host interface", "list host interface")

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            set_fields(ctx, a)

    FieldCommand.__name__ = FieldCommand.__qualname__ = "Command"
    return FieldCommand
