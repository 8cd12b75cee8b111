"""Adding, changing and removing hosts and appliances."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, cast, func, insert, select, true
from sqlalchemy.orm import Session

from cairn.attrs import store
from cairn.attrs.scopes import Scope
from cairn.db.models import OS, Appliance, Host
from cairn.errors import Conflict, NotFound
from cairn.inventory.hostwords import known
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
    host_id = insert_host(session, name, appliance, rack=rack, rank=rank, cpus=cpus, os=os)
    host = session.get(Host, host_id)
    assert host is not None
    return host


def insert_host(
    session: Session, name: str, appliance: str, *, rack: int, rank: int, cpus: int, os: str
) -> int:
    """Adds a host without loading it (what `add host` needs): its id.

    Plain statements built once, on the session's connection: `add host` runs
    ten thousand times in a replayed dump, and the ORM's unit of work would
    cost three times as much as the statements themselves."""
    if name == "localhost":
        raise Conflict("localhost names this machine's own host entry; give the host its real name")
    session.flush()  # what the session holds goes first: the statements below bypass it
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect in _ONE_STATEMENT:
        given = {"name": name, "appliance": appliance, "os": os, "rack": rack, "rank": rank}
        found = conn.execute(_insert_named(dialect), {**given, "cpus": cpus}).scalar()
        if found is not None:
            known(session)[name] = int(found)  # its attributes are likely next
            return int(found)
    # Not written (SQLite, PostgreSQL), or MariaDB: each check in turn, for its error.
    if conn.execute(_id_of(Host), {"name": name}).first():
        raise Conflict(f"host {name} exists already (see: cairn list host)")
    row = {
        "name": name,
        "appliance_id": _named_id(conn, Appliance, appliance),
        "os_id": _named_id(conn, OS, os),
        "rack": rack,
        "rank": rank,
        "cpus": cpus,
    }
    key = conn.execute(_insert_host(), row).inserted_primary_key
    assert key is not None
    known(session)[name] = int(key[0])
    return int(key[0])


# Where the insert can skip an existing name and return the new id, a host is
# added in one statement that also finds its appliance and OS by name (a
# replayed dump adds ten thousand hosts); MariaDB compares names without case.
_ONE_STATEMENT = frozenset({"sqlite", "postgresql"})


@functools.cache
def _insert_named(dialect: str) -> Any:
    """INSERT ... SELECT of a host with its appliance's and OS's ids, nothing
    when the name exists or the appliance or the OS does not; returns its id."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as insert_into
    else:
        from sqlalchemy.dialects.sqlite import insert as insert_into  # type: ignore[assignment]
    columns = Host.__table__.c
    row: Any = select(
        cast(bindparam("name"), columns.name.type),
        Appliance.id,
        OS.id,
        cast(bindparam("rack"), columns.rack.type),
        cast(bindparam("rank"), columns.rank.type),
        cast(bindparam("cpus"), columns.cpus.type),
    )
    row = (
        row.select_from(Appliance)
        .join(OS, true())  # a row of each, at most: by name
        .where(Appliance.name == bindparam("appliance"), OS.name == bindparam("os"))
    )
    keys = ["name", "appliance_id", "os_id", "rack", "rank", "cpus"]
    stmt = insert_into(Host).from_select(keys, row).on_conflict_do_nothing(index_elements=["name"])
    return stmt.returning(Host.id)


def _named_id(conn: Any, model: type[Appliance] | type[OS], name: str) -> int:
    found = conn.execute(_id_of(model), {"name": name}).scalar()
    if found is None:
        kind = "appliance" if model is Appliance else "os"
        raise NotFound(f"there is no {kind} named {name!r} (see: cairn list {kind})")
    return int(found)


@functools.cache
def _id_of(model: Any) -> Any:
    return select(model.id).where(model.name == bindparam("name"))


@functools.cache
def _insert_host() -> Any:
    return insert(Host).values(
        {c: bindparam(c) for c in ("name", "appliance_id", "os_id", "rack", "rank", "cpus")}
    )


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
