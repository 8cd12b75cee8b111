"""`cairn list appliance`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the appliances, with how many hosts each has and whether they run VMs.

    KVM is the attribute kvm as the appliance's hosts resolve it (from the
    appliance, else global scope; unset is false); a host's own kvm may still
    differ (see: cairn report host attr HOST attr=kvm).
    """

    lists = True
    examples = (Example("cairn list appliance", "Shows every appliance."),)
    related = ("add appliance", "list appliance attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import func, select

        from cairn.attrs import read, wellknown
        from cairn.attrs.scopes import Resolved, Scope
        from cairn.db.models import Appliance, Host
        from cairn.inventory.containers import VM_CONTAINER

        s = ctx.session
        counts = dict(
            s.execute(select(Host.appliance_id, func.count()).group_by(Host.appliance_id)).all()
        )
        glob = dict(read.by_owner(s, Scope.GLOBAL, None).get(0, []))
        apps = read.by_owner(s, Scope.APPLIANCE, None)
        rows = []
        for app in s.execute(select(Appliance).order_by(Appliance.name)).scalars():
            # An appliance's hosts resolve kvm from it, else from global scope.
            layers = {n: Resolved(v, "G") for n, v in glob.items() if n == "kvm"}
            layers |= {n: Resolved(v, "A") for n, v in apps.get(app.id, []) if n == "kvm"}
            kvm = app.name == VM_CONTAINER or wellknown.flag(
                layers, "kvm", app.name, owner="appliance"
            )
            rows.append((app.name, counts.get(app.id, 0), "true" if kvm else "false"))
        return Table(("APPLIANCE", "HOSTS", "KVM"), rows)
