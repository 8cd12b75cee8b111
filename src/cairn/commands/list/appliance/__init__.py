"""`cairn list appliance`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Table

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Lists the appliances, with how many hosts each has and whether they run VMs."""

    lists = True
    examples = (Example("cairn list appliance", "Shows every appliance."),)
    related = ("add appliance", "list appliance attr")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from sqlalchemy import func, select

        from cairn.attrs.escape import unescape
        from cairn.db.models import Appliance, ApplianceAttr, GlobalAttr, Host

        s = ctx.session
        counts = dict(
            s.execute(select(Host.appliance_id, func.count()).group_by(Host.appliance_id)).all()
        )
        kvm = dict(
            s.execute(
                select(ApplianceAttr.appliance_id, ApplianceAttr.value).where(
                    ApplianceAttr.name == "kvm"
                )
            ).all()
        )
        default = s.execute(select(GlobalAttr.value).where(GlobalAttr.name == "kvm")).scalar()
        rows = []
        for app in s.execute(select(Appliance).order_by(Appliance.name)).scalars():
            value = kvm.get(app.id, default)
            rows.append((app.name, counts.get(app.id, 0), unescape(value) if value else None))
        return Table(("APPLIANCE", "HOSTS", "KVM"), rows)
