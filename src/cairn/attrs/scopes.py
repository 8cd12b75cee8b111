"""The attribute scopes, most general first, and their one-letter source tags."""

from __future__ import annotations

from enum import StrEnum


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
