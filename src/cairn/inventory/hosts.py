"""Adding, changing and removing hosts and appliances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cairn.attrs import store
from cairn.attrs.scopes import Scope
from cairn.db.models import OS, Appliance, Host
from cairn.errors import Conflict
from cairn.inventory.lookup import one


def _refuse_existing(session: Session, model: type, name: str, kind: str) -> None:
    if session.execute(select(model.id).where(model.name == name)).first():  # type: ignore[attr-defined]
        raise Conflict(f"{kind} {name} exists already (see: cairn list {kind})")


def add_appliance(session: Session, name: str, kvm: bool | None) -> Appliance:
    _refuse_existing(session, Appliance, name, "appliance")
    appliance = Appliance(name=name)
    session.add(appliance)
    session.flush()
    if kvm is not None:
        owner = store.Owner(Scope.APPLIANCE, appliance.id, name)
        store.put(session, owner, "kvm", "true" if kvm else "false", replace=True)
    return appliance


def remove_appliance(session: Session, name: str) -> None:
    _remove_unused(session, one(session, Appliance, name), "appliance", Host.appliance_id)


def remove_os(session: Session, name: str) -> None:
    _remove_unused(session, one(session, OS, name), "os", Host.os_id)


def _remove_unused(session: Session, row: Appliance | OS, kind: str, column: Any) -> None:
    users = (
        session.execute(select(Host.name).where(column == row.id).order_by(Host.name).limit(4))
        .scalars()
        .all()
    )
    if users:
        raise Conflict(
            f"{kind} {row.name} is used by {', '.join(users[:3])}"
            f"{' and others' if len(users) > 3 else ''}: remove or change those hosts first"
        )
    session.delete(row)


def add_os(session: Session, name: str) -> OS:
    _refuse_existing(session, OS, name, "os")
    os_row = OS(name=name)
    session.add(os_row)
    return os_row


def add_host(
    session: Session, name: str, appliance: str, *, rack: int, rank: int, cpus: int, os: str
) -> Host:
    if name == "localhost":
        raise Conflict("localhost names this machine's own host entry; give the host its real name")
    _refuse_existing(session, Host, name, "host")
    host = Host(
        name=name,
        appliance=one(session, Appliance, appliance),
        os=one(session, OS, os),
        rack=rack,
        rank=rank,
        cpus=cpus,
    )
    session.add(host)
    session.flush()
    return host


def set_field(session: Session, hosts: list[Host], field: str, value: object) -> None:
    for host in hosts:
        if field == "appliance":
            from cairn.inventory.containers import check_holders

            host.appliance = one(session, Appliance, str(value))
            check_holders(session)
        elif field == "os":
            host.os = one(session, OS, str(value))
        else:
            setattr(host, field, value)


def remove_host(session: Session, host: Host) -> None:
    from cairn.db.models import VM

    guests = (
        session.execute(
            select(Host.name).join(VM, VM.host_id == Host.id).where(VM.container_id == host.id)
        )
        .scalars()
        .all()
    )
    if guests:
        more = " and more" if len(guests) > 3 else ""
        raise Conflict(
            f"{host.name} holds the VMs {', '.join(guests[:3])}{more}:"
            " remove them or move them (set host vm ... physnode=) first"
        )
    session.delete(host)


def count(session: Session) -> int:
    return session.execute(select(func.count(Host.id))).scalar_one()
