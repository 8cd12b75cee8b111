"""The attribute scopes, most general first, their one-letter source tags, and
`Resolved`, a value with the tag of where it came from.

Every layer that reads attributes imports this, so it imports nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Scope(StrEnum):
    GLOBAL = "global"
    OS = "os"
    APPLIANCE = "appliance"
    HOST = "host"

    @property
    def tag(self) -> str:
        return {"global": "G", "os": "O", "appliance": "A", "host": "H"}[self.value]


INTRINSIC_TAG = "I"
# Facts of a host that are shown as attributes but set with their own commands.
INTRINSIC = ("hostname", "appliance", "os", "rack", "rank", "cpus")


class Resolved(NamedTuple):
    """An attribute of a host as resolved (cairn.attrs.resolve)."""

    value: str  # escaped, as stored
    source: str  # G, O, A, H or I
