"""`cairn set host power` (Rocks' power command for VMs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Table
from cairn.cli.spec import Command as Base
from cairn.commands._power import ACTION, DELAY
from cairn.commands._tenant import HERE_WITH, TENANT

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Powers VMs on, off, or on to install them from the network.

    on starts a VM as `cairn start host vm` does; a VM already on is left as
    it is. off powers it off hard, as `cairn stop host vm` (action=poweroff)
    does: no ACPI shutdown. install sets the VM's boot to install (`cairn set
    host boot HOST action=install`) and starts it: the network comes before
    its disk in its boot order (after a CDROM, if it has one: `cairn set host
    vm cdrom HOST cdrom=none` first), so it boots from the PXE server, which serves
    the boot action its installaction names while it is set to install and
    its own disk (localboot) once it is set back to os: as in Rocks, where the
    installed node did that, the install does it, when the guest ends by itself
    (its installer powers it off, or reboots a kernel-booted install); the
    service's watcher then sets its boot to os. (cairn's own PXE server has the
    change after `cairn sync config`.) install refuses a VM that is on or saved: action=off first.
    A host may also be named by one of its MACs, as Rocks' tenants did. Physical
    hosts are refused: cairn has no power control for them (no IPMI).

    With key=, it is a tenant's request: signed with that private key on this
    machine (no database needed) and sent to the Airboss (airboss=), which
    powers only VMs of the cluster the key is bound to.
    """

    args = (
        Arg(
            "host",
            "VM names, appliance names, globs, or a VM's MAC (52:54:00:12:34:56)",
            many=True,
            metavar="HOST|MAC",
        ),
    )
    params = (ACTION, DELAY, *TENANT)
    here_with = HERE_WITH
    writes = True
    lists = True
    examples = (
        Example("cairn set host power hosted-vm-0-0-0 action=on", "Starts the VM."),
        Example("cairn set host power hosted-vm-0-0-0 action=off", "Powers it off hard."),
        Example(
            "cairn set host power hosted-vm-0-0-0 action=install",
            "Boots it from the network to install it.",
        ),
        Example(
            "cairn set host power lab-compute-0 action=install key=~/.cairn/lab-owner"
            " airboss=127.0.0.1",
            "A tenant installs a compute of its cluster through the Airboss.",
        ),
    )
    related = ("set cluster power", "start host vm", "stop host vm", "set host boot")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.commands._lifecycle import COLUMNS
        from cairn.commands._power import paced_calls, power

        if a["key"]:
            return paced_calls(a, "power", a["host"], {"action": a["action"]}, COLUMNS)
        from cairn.vms.named import vms_named

        return power(ctx, vms_named(ctx.session, a["host"]), a["action"], a["delay"])
