"""`cairn sync host vlan`: Rocks' name for the VLAN part of `sync host network`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Example, Table
from cairn.commands.sync.host.network import Command as SyncNetwork

if TYPE_CHECKING:
    from cairn.context import Context
    from cairn.db.models import Host


class Command(SyncNetwork):
    """Rocks' name for `cairn sync host network`: makes the VLAN devices VMs need.

    Rocks 6.2 started the 802.1Q devices of a VM's container (or of a host
    given itself) with this command. Cairn does that, and the bridges and
    VXLAN devices beside them, in `cairn sync host network`; this runs it, on
    the VM's container when HOST is a VM. `cairn report host vlan` lists the
    changes without making them.
    """

    examples = (
        Example("cairn sync host vlan compute-0-1", "The host's VLANs and bridges, if any."),
        Example("cairn sync host vlan compute-0-1 dry-run=yes", "Lists them, changing nothing."),
    )
    related = ("sync host network", "report host vlan", "set host interface vlan")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from cairn.container.netsync import sync_hosts

        hosts = containers_of(ctx, a["host"])
        return Table(("HOST", "CHANGE"), sync_hosts(ctx.session, hosts, dry_run=bool(a["dry_run"])))


def containers_of(ctx: Context, word: str) -> list[Host]:
    """The hosts `word` names, each VM replaced by its container (once each)."""
    from cairn.inventory import lookup
    from cairn.vms.define import maybe_vm

    out: dict[int, Host] = {}
    for host in lookup.hosts(ctx.session, [word], all_if_empty=False):
        vm = maybe_vm(ctx.session, host)
        chosen = host if vm is None else vm.container
        out.setdefault(chosen.id, chosen)
    return list(out.values())
