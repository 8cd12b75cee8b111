"""What the VM lifecycle commands share: the parallel= parameter, the result
table, and starting and stopping (the same for `start|stop host vm` and
`start|stop cluster`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Param, Table
from cairn.lifecycle.runner import MAX_WORKERS

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import VM
    from cairn.hypervisor.connections import Connections
    from cairn.lifecycle.runner import Outcome

PARALLEL = Param(
    "parallel",
    "containers worked on at once (default: one per container of the VMs named,"
    f" at most {MAX_WORKERS})",
    None,
    values.integer(1, 256),
    metavar="N",
)
COLUMNS = ("HOST", "CONTAINER", "RESULT", "DETAIL")


def on_vms(ctx: Context, words: list[str], act: Act) -> Table:
    """Run `act` on the VMs the words name, with one libvirt connection per container."""
    from cairn.vms.define import vms_for

    return on_these(vms_for(ctx.session, words), act)


def on_these(vms: list[VM], act: Act) -> Table:
    """Run `act` on `vms` (a cluster's, say), with one libvirt connection per container."""
    from cairn.hypervisor.connections import Connections

    with Connections() as conns:
        return table(act(vms, conns))


Act = Callable[["list[VM]", "Connections"], "Sequence[Outcome]"]


def starting(ctx: Context, a: dict[str, Any]) -> Act:
    """What `start host vm` and `start cluster` do to their VMs."""
    from cairn.lifecycle.hooks import Hooks
    from cairn.lifecycle.start import start

    hooks = Hooks.load()
    return lambda vms, conns: start(
        ctx.session,
        vms,
        conns,
        hooks,
        parallel=a["parallel"],
        progress=ctx.progress,
        notes=ctx.notes,
    )


def stopping(ctx: Context, a: dict[str, Any]) -> Act:
    """What `stop host vm` and `stop cluster` do to their VMs."""
    from cairn.lifecycle.hooks import Hooks
    from cairn.lifecycle.stop import stop

    hooks = Hooks.load()
    return lambda vms, conns: stop(
        ctx.session,
        vms,
        conns,
        hooks,
        action=a["action"],
        terminate=a.get("terminate", False),
        timeout=a["timeout"],
        parallel=a["parallel"],
        progress=ctx.progress,
    )


def table(outcomes: Sequence[Outcome]) -> Table:
    failed = any(o.failed for o in outcomes)
    return Table(COLUMNS, [o.row() for o in outcomes], status=1 if failed else 0)
