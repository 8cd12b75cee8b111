"""Converters for argument and parameter values typed by users.

Each converter takes the raw word and returns the typed value or raises
ValueError with a short reason; the parser turns that into a usage error that
names the argument. Nothing here knows about the database.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

Converter = Callable[[str], object]

_TRUE = frozenset({"yes", "true", "on", "1", "y"})
_FALSE = frozenset({"no", "false", "off", "0", "n"})

# RFC 1123 host label: what a host, appliance, network or OS name may be.
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_ATTR = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")


def text(word: str) -> str:
    return word


def boolean(word: str) -> bool:
    low = word.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{word!r} is not a boolean (use yes/no, true/false, on/off, 1/0, y/n)")


def integer(minimum: int | None = None, maximum: int | None = None) -> Converter:
    def convert(word: str) -> int:
        try:
            value = int(word.strip())
        except ValueError:
            raise ValueError(f"{word!r} is not a whole number") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{value} is above the maximum {maximum}")
        return value

    convert.__name__ = "integer"
    return convert


def seconds(maximum: float) -> Converter:
    """A time in seconds from 0 to `maximum`, decimals allowed (Rocks' delay=1.5)."""

    def convert(word: str) -> float:
        try:
            value = float(word.strip())
        except ValueError:
            raise ValueError(f"{word!r} is not a number of seconds") from None
        if not 0 <= value <= maximum:  # also refuses nan
            raise ValueError(f"{word.strip()} is not between 0 and {maximum:g} seconds")
        return value

    convert.__name__ = "seconds"
    return convert


def choice(*options: str) -> Converter:
    def convert(word: str) -> str:
        low = word.strip().lower()
        if low not in options:
            raise ValueError(f"{word!r} is not one of {', '.join(options)}")
        return low

    convert.__name__ = "choice"
    return convert


def vlan(word: str) -> int | None:
    """A VLAN id, or none (Rocks' keyword for an interface without one)."""
    if word.strip().lower() == "none":
        return None
    return integer(1, 4094)(word)  # type: ignore[return-value]


def vlans(word: str) -> list[int | None]:
    """Rocks' per-interface VLAN list: `3,none,5` (the first, second, third interface)."""
    return [vlan(w) for w in word.split(",")]


def label(word: str) -> str:
    """A DNS label (RFC 1123): lower-case letters, digits and '-', 1 to 63 long."""
    name = word.strip().lower()
    if not _LABEL.fullmatch(name):
        raise ValueError(
            f"{word!r} is not a valid name: use 1-63 lower-case letters, digits and '-',"
            " not starting or ending with '-'"
        )
    return name


def action_name(word: str) -> str:
    """A boot action's name: names as in label(), one space between them, as
    Rocks named its actions ("install vm frontend")."""
    parts = word.strip().lower().split(" ")
    try:
        return " ".join(label(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"{word!r} is not a boot action name: use words of lower-case letters, digits"
            " and '-' with one space between them, e.g. 'install vm frontend'"
        ) from None


def attr_name(word: str) -> str:
    if not _ATTR.fullmatch(word):
        raise ValueError(
            f"{word!r} is not a valid attribute name: start with a letter, then letters,"
            " digits, '_', '-' or '.' (at most 128)"
        )
    return word


_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_IFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")


def mac(word: str) -> str:
    value = word.strip().lower().replace("-", ":")
    if not _MAC.fullmatch(value):
        raise ValueError(f"{word!r} is not a MAC address (six hex pairs: 52:54:00:12:34:56)")
    return value


def ip(word: str) -> str:
    try:
        return str(ipaddress.ip_address(word.strip()))
    except ValueError:
        raise ValueError(f"{word!r} is not an IP address") from None


def iface_name(word: str) -> str:
    if not _IFACE.fullmatch(word):
        raise ValueError(f"{word!r} is not an interface name (up to 15 letters, digits, _ . : -)")
    return word
