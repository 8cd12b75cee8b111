"""Checks for attribute names that cairn itself reads, run when a value is set.

A value that cannot work is refused when it is set, not when a VM starts.
XML-valued attributes are checked again when the domain XML is built.
"""

from __future__ import annotations

from cairn.attrs.scopes import INTRINSIC
from cairn.errors import CairnError
from cairn.values import boolean

BOOLEANS = frozenset({"kvm", "kvm_autostart"})


def check(name: str, value: str, where: str) -> None:
    if name in INTRINSIC:
        raise CairnError(
            f"{name} is a fact of the host, not an attribute: use 'cairn set host {name}'"
            if name not in ("hostname", "os")
            else f"{name} is a fact of the host, not an attribute"
        )
    if name in BOOLEANS:
        try:
            boolean(value)
        except ValueError as exc:
            raise CairnError(f"attribute {name} for {where}: {exc}") from None
