"""The web page's one way to read and change the cluster: existing commands, run by the service.

Each call runs a command through `cairn.service.api.run` (the JSON API's
find, parse and perform inside the service's wrap, writers one at a time),
exactly what `cairn WORDS ARGS` runs; nothing here reads the database or
libvirt on its own. What the page shows is joined from the rows of several
listings (`views`), what it does is one command per action (`ACTIONS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.service import api

if TYPE_CHECKING:
    from cairn.service.server import Service


class Failed(Exception):
    """A command answered with an error: its one line, and the HTTP status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Action:
    """A button of the VM page: the command lines it runs, in order."""

    label: str
    lines: tuple[tuple[str, ...], ...]  # each: command words, then args; "{vm}" is the VM
    confirm: bool = False  # destructive: the page asks first
    param: str | None = None  # a value the user gives, passed as this parameter


ACTIONS: dict[str, Action] = {
    "start": Action("Power on", (("start", "host", "vm", "{vm}"),)),
    "poweroff": Action("Power off", (("stop", "host", "vm", "{vm}"),), confirm=True),
    "shutdown": Action(
        "Shut down", (("stop", "host", "vm", "{vm}", "action=shutdown", "timeout=0"),), confirm=True
    ),
    "install": Action(
        "Install",
        (("set", "host", "boot", "{vm}", "action=install"), ("start", "host", "vm", "{vm}")),
        confirm=True,
    ),
    "pause": Action("Pause", (("pause", "host", "vm", "{vm}"),)),
    "resume": Action("Resume", (("resume", "host", "vm", "{vm}"),)),
    "cdrom": Action("Set CDROM", (("set", "host", "vm", "cdrom", "{vm}"),), param="cdrom"),
}


def run(
    service: Service, words: list[str], args: list[str], *, strict: bool = True
) -> dict[str, Any]:
    """The answer of `cairn WORDS ARGS` (args: plain words, `name=value` as on a
    command line, never split again). A failure raises Failed when `strict`."""
    body = json.dumps({"args": args}).encode()
    with service._counted():  # the service neither idles out nor exits mid-command
        code, answer = api.run(service, words, body)
    if code != 200 and strict:
        raise Failed(code, str(answer.get("error", "the command failed")))
    return answer


def rows(service: Service, line: str, *args: str) -> list[dict[str, Any]]:
    return list(run(service, line.split(), list(args)).get("rows", []))


def one_vm(service: Service, name: str) -> dict[str, Any]:
    """The row of VM `name` and no other: a word of a command line may also be a
    glob or an appliance, which the page never means."""
    if not name or any(c in name for c in "*?[]"):
        raise Failed(404, f"no VM {name!r}")
    found = [r for r in rows(service, "list host vm", f"host={name}", "status=yes")]
    if [r.get("vm-host") for r in found] != [name]:
        raise Failed(404, f"no VM {name!r}")
    return found[0]


def perform(service: Service, action: str, vm: str, value: str | None) -> list[str]:
    """Runs the action's command lines on VM `vm` (checked to be one VM); their warnings."""
    act = ACTIONS[action]
    one_vm(service, vm)
    said: list[str] = []
    for line in act.lines:
        split = line.index("{vm}")
        words = list(line[:split])
        args = [f"host={vm}", *line[split + 1 :]]
        if act.param is not None:
            args.append(f"{act.param}={value or 'none'}")
        said += run(service, words, args).get("warnings", [])
    return said
