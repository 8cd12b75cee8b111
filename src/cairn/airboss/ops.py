"""What each Airboss op runs: the command lines of cairn's own commands.

What belongs here: each op's params (checked, as data) and the words of the
command that does it, built from the VMs `checks.may` allowed, never from the
tenant's raw target. The words run through the service (`find`, `parse`,
`perform`, as the JSON API runs them): power, CDROM and MAC listing have one
implementation, the commands'. Not here: who may (`checks`), the wire
(`envelope`), the console (the server attaches it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cairn.airboss.checks import Allowed
from cairn.airboss.envelope import Refused

Words = list[str]


@dataclass(frozen=True)
class Param:
    name: str
    allowed: Callable[[str], bool]
    default: str
    shown: str  # what the refusal says it may be


_ACTION = Param("action", lambda v: v in ("on", "off", "install"), "", "on, off or install")
_YESNO = Param("", lambda v: v in ("yes", "no"), "no", "yes or no")
PARAMS: dict[str, tuple[Param, ...]] = {
    "power": (_ACTION,),
    "cluster-power": (
        _ACTION,
        Param("delay", lambda v: v.isdigit() and int(v) <= 3600, "0", "seconds, 0 to 3600"),
    ),
    "macs": (Param("status", _YESNO.allowed, "no", _YESNO.shown),),
    "cdrom": (Param("cdrom", lambda v: 0 < len(v) <= 4096, "", "a path or none"),),
    "console": (Param("readonly", _YESNO.allowed, "no", _YESNO.shown),),
}


def checked_params(op: str, given: Mapping[str, str]) -> dict[str, str]:
    """The op's params with defaults; Refused for one unknown, missing or bad."""
    declared = {p.name: p for p in PARAMS.get(op, ())}
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise Refused(f"{op} takes no param {name[:40]!r} (it takes: {known})")
    out: dict[str, str] = {}
    for name, p in declared.items():
        value = given.get(name, p.default)
        if not value:
            raise Refused(f"{op} needs {name}= ({p.shown})")
        if not p.allowed(value):
            raise Refused(f"{op}: {name}={value[:60]!r} is not {p.shown}")
        out[name] = value
    return out


def commands(op: str, allowed: Allowed, params: Mapping[str, str]) -> list[Words]:
    """The command lines that do `op` on the allowed VMs, in order."""
    if op == "power":
        return [["set", "host", "power", *allowed.hosts, f"action={params['action']}"]]
    if op == "cluster-power":
        action, delay = f"action={params['action']}", f"delay={params['delay']}"
        return [["set", "cluster", "power", allowed.frontend, action, delay]]
    if op == "macs":
        return [["list", "host", "macs", allowed.frontend, f"status={params['status']}"]]
    if op == "cdrom":
        return [["set", "host", "vm", "cdrom", *allowed.hosts, f"cdrom={params['cdrom']}"]]
    raise Refused(f"{op} runs no command")  # console: the server attaches it
