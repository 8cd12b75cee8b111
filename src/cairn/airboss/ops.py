"""What each Airboss op runs: the command lines of cairn's own commands.

What belongs here: each op's params (checked, as data) and the words of the
command that does it, built from the VMs `checks.may` allowed, never from the
tenant's raw target. The words run through the service (`find`, `parse`,
`perform`, as the JSON API runs them): power, CDROM and MAC listing have one
implementation, the commands'. Not here: who may (`checks`), the wire
(`envelope`), the console (the server attaches it).
"""

from __future__ import annotations

from collections.abc import Mapping

from cairn import values
from cairn.airboss.checks import Allowed
from cairn.airboss.envelope import Refused
from cairn.cli.spec import Param
from cairn.commands._power import ACTION, DELAY

Words = list[str]


def _path(word: str) -> str:
    if not 0 < len(word) <= 4096:
        raise ValueError("give the ISO's absolute path (at most 4096 characters) or none")
    return word


# Each op's params, declared once: the commands' own where the op is a command's.
PARAMS: dict[str, tuple[Param, ...]] = {
    "power": (ACTION,),
    "cluster-power": (ACTION, DELAY),
    "macs": (Param("status", "add each VM's live state", False, values.boolean),),
    "cdrom": (Param("cdrom", "an ISO under tenant_iso_dirs, or none", convert=_path,
                    required=True),),
    "console": (Param("readonly", "only show the output", False, values.boolean),),
    "web": (),
}  # fmt: skip


def checked_params(op: str, given: Mapping[str, str]) -> dict[str, str]:
    """The params given, each checked by its declaration; Refused for one
    unknown, missing or bad. The values stay as given: the command reads them."""
    declared = {p.name: p for p in PARAMS.get(op, ())}
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise Refused(f"{op} takes no param {name[:40]!r} (it takes: {known})")
    for name, p in declared.items():
        if name not in given:
            if p.required:
                raise Refused(f"{op} needs {name}= ({p.help})")
            continue
        try:
            p.convert(given[name])
        except ValueError as e:
            raise Refused(f"{op}: bad value for {name}=: {e}") from None
    return dict(given)


def commands(op: str, allowed: Allowed, params: Mapping[str, str]) -> list[Words]:
    """The command lines that do `op` on the allowed VMs, in order."""
    given = [f"{name}={value}" for name, value in params.items()]
    if op == "power":
        return [["set", "host", "power", *allowed.hosts, *given]]
    if op == "cluster-power":
        return [["set", "cluster", "power", allowed.frontend, *given]]
    if op == "macs":
        return [["list", "host", "macs", allowed.frontend, *given]]
    if op == "cdrom":
        return [["set", "host", "vm", "cdrom", *allowed.hosts, *given]]
    raise Refused(f"{op} runs no command")  # console, web: the server answers them
