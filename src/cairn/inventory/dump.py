"""The whole inventory as `cairn` command lines (see `cairn dump`)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import dump_lines
from cairn.commands._words import command_line
from cairn.db.models import OS, Appliance, Interface, Network
from cairn.inventory import lookup


def everything(session: Session) -> list[str]:
    return list(_inventory(session)) + [
        line for scope in Scope for line in dump_lines(session, scope, [])
    ]


def _inventory(session: Session) -> Iterator[str]:
    for name in session.execute(select(OS.name).order_by(OS.name)).scalars():
        yield command_line("add", "os", name)
    for name in session.execute(select(Appliance.name).order_by(Appliance.name)).scalars():
        yield command_line("add", "appliance", name)
    for n in session.execute(select(Network).order_by(Network.name)).scalars():
        yield command_line(
            "add",
            "network",
            n.name,
            subnet=n.subnet,
            netmask=n.netmask,
            bridge=n.bridge,
            libvirt_network=n.libvirt_network,
        )
    hosts = lookup.hosts(session, [])
    for h in hosts:
        yield command_line(
            "add",
            "host",
            h.name,
            appliance=h.appliance.name,
            rack=h.rack,
            rank=h.rank,
            cpus=h.cpus,
            os=h.os.name,
        )
    names = {h.id: h.name for h in hosts}
    for i in session.execute(
        select(Interface).order_by(Interface.host_id, Interface.name)
    ).scalars():
        yield command_line(
            "add",
            "host",
            "interface",
            names[i.host_id],
            i.name,
            mac=i.mac,
            ip=i.ip,
            subnet=i.network.name if i.network else None,
            vlan=i.vlan,
        )
