"""`cairn report host vm vnc`."""

from __future__ import annotations

import ipaddress
import shlex
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cairn.cli.spec import Arg, Example, Text
from cairn.cli.spec import Command as Base
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.context import Context

LOCAL_PORT = 5900


def loopback(address: str) -> bool:
    """True for an address only this machine reaches ("" is libvirt's default, 127.0.0.1)."""
    if address in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def how_to_reach(vm: str, uri: str, port: int, listen: str) -> list[str]:
    """The lines that tell how to open the display from the frontend."""
    parts = urlsplit(uri)
    remote = bool(parts.hostname) and not loopback(parts.hostname or "")
    lines = [
        f"# {vm}: VNC on {listen or '127.0.0.1'} port {port} of {parts.hostname or 'this machine'}"
    ]
    if not loopback(listen):
        lines.append(
            f"# warning: it listens on {listen}, open to that network; cairn's own display"
            " listens on 127.0.0.1 only"
        )
    if not remote:
        lines.append(f"vncviewer 127.0.0.1::{port}")
        return lines
    user = f"{parts.username}@" if parts.username else ""
    ssh_port = ["-p", str(parts.port)] if parts.port and parts.scheme.endswith("+ssh") else []
    tunnel = ["ssh", *ssh_port, "-N", "-L", f"{LOCAL_PORT}:127.0.0.1:{port}",
              f"{user}{parts.hostname}"]  # fmt: skip
    lines.append(shlex.join(tunnel) + " &")
    lines.append(f"vncviewer 127.0.0.1::{LOCAL_PORT}")
    return lines


class Command(Base):
    """Prints how to reach a running VM's VNC display from this machine.

    cairn's VMs show their display on the container's loopback address only
    (127.0.0.1, a port libvirt picks), never on a network address; so from
    the frontend it is reached through an SSH tunnel to the container, which
    this prints with the viewer command to run after it. A display the
    administrator added (kvm_device_N) that listens elsewhere is pointed out.
    For text consoles, see 'cairn open host console'.
    """

    args = (Arg("host", "the VM's name", metavar="VM"),)
    examples = (
        Example("cairn report host vm vnc hosted-vm-0-0-0", "The SSH tunnel and viewer command."),
    )
    related = ("open host console", "start host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.hypervisor.connections import Connections
        from cairn.hypervisor.states import ACTIVE
        from cairn.inventory.containers import container_uris
        from cairn.lifecycle.targets import guest_of
        from cairn.vms.define import one_vm

        vm = one_vm(ctx.session, a["host"])
        name = vm.host.name
        uri = container_uris(ctx.session, [vm.container])[vm.container_id]
        with Connections() as conns:
            guest = guest_of(ctx.session, vm, conns)
            state = guest.state()
            if state not in ACTIVE:
                raise CairnError(f"{name} is {state}: its display exists only while it runs")
            displays = [d for d in guest.displays() if d.kind == "vnc"]
        if not displays:
            raise CairnError(f"{name} has no VNC display")
        lines: list[str] = []
        for d in displays:
            if d.port <= 0:
                lines.append(f"# {name}: VNC display without a port (the container gave none)")
            else:
                lines.extend(how_to_reach(name, uri, d.port, d.listen))
        return Text("\n".join(lines) + "\n")
