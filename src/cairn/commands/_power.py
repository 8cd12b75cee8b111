"""What `set host power` and `set cluster power` share: Rocks' power actions
(on, off, install) done by the lifecycle's own start and stop, one VM after
another when delay= asks for a pause between them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Param, Table
from cairn.commands._lifecycle import Act, starting, stopping, table
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import VM
    from cairn.lifecycle.runner import Outcome

# The command holds the database's writers while it paces the VMs: bounded, so
# that a delay= (a tenant's too, through the Airboss) cannot stall them for long.
MAX_PACING = 300

ACTION = Param(
    "action",
    "on (start it), off (power it off hard) or install (boot it from the network to install)",
    convert=values.choice("on", "off", "install"),
    required=True,
    metavar="ACTION",
)
DELAY = Param(
    "delay",
    "seconds between one VM and the next, at most 60 (default 0: all at once, containers"
    f" in parallel); the pauses together at most {MAX_PACING} s",
    0.0,
    values.seconds(60),
    metavar="S",
)
# What `start host vm` and `stop host vm` do by default; poweroff is Rocks' off.
_LIFECYCLE = {"parallel": None, "action": "poweroff", "timeout": 120, "terminate": False}


def power(ctx: Context, vms: list[VM], action: str, delay: float = 0.0) -> Table:
    """Turn `vms` on, off, or on to install; a VM already on is left as it is
    (install refuses it: power it off first)."""
    from cairn.hypervisor.states import ACTIVE
    from cairn.lifecycle.runner import Outcome
    from cairn.netboot.actions import set_boot
    from cairn.vms.status import live_states

    if delay * (len(vms) - 1) > MAX_PACING:
        raise CairnError(
            f"delay={delay:g} between {len(vms)} VMs pauses {delay * (len(vms) - 1):g} s in"
            f" all, more than {MAX_PACING} s: give a smaller delay="
        )
    if action == "off":
        return table(_paced(vms, stopping(ctx, dict(_LIFECYCLE)), delay))
    states = live_states(ctx.session, vms)
    # A saved VM would resume from its image, not boot: install wants it off.
    busy = {*ACTIVE, "saved"} if action == "install" else set(ACTIVE)
    up = {vm.id for vm in vms if states[vm.id] in busy}
    off = [vm for vm in vms if vm.id not in up]
    before = {vm.id: vm.host.boot for vm in off}
    if action == "install":
        # Set to install, the PXE server gives it the boot action its
        # installaction names (cairn.netboot), and the network comes before
        # its disk in the boot order (cairn.designer).
        set_boot([vm.host for vm in off], "install")
    done = {o.vm: o for o in _paced(off, starting(ctx, dict(_LIFECYCLE)), delay)}
    for vm in off:
        if done[vm.host.name].failed:  # not started: its boot stays as it was
            vm.host.boot = before[vm.id]
    out = []
    for vm in vms:
        if vm.id not in up:
            out.append(done[vm.host.name])
        elif action == "install":
            state = states[vm.id]
            first = "discard its saved image" if state == "saved" else "power it off"
            why = f"it is {state}: {first} first (action=off), then install"
            out.append(Outcome(vm.host.name, vm.container.name, "failed", why, True))
        else:
            out.append(Outcome(vm.host.name, vm.container.name, states[vm.id], "already on"))
    return table(out)


def paced_calls(
    a: dict[str, Any], op: str, targets: list[str], params: dict[str, str], columns: tuple[str, ...]
) -> Table:
    """A tenant's power request per target, through the Airboss, delay= apart."""
    from cairn.commands._tenant import call, rows_table

    rows: list[dict[str, str]] = []
    for i, target in enumerate(targets):
        if i and a["delay"]:
            time.sleep(a["delay"])
        rows += call(a, op, target, params)
    return rows_table(rows, columns)


def _paced(vms: list[VM], act: Act, delay: float) -> list[Outcome]:
    """`act` on all the VMs at once, or on one after another `delay` seconds apart."""
    from cairn.hypervisor.connections import Connections

    if not vms:
        return []
    with Connections() as conns:
        if not delay:
            return list(act(vms, conns))
        out: list[Outcome] = []
        for i, vm in enumerate(vms):
            if i:
                time.sleep(delay)  # Rocks' delay=: spread the load of the boots
            out.extend(act([vm], conns))
        return out
